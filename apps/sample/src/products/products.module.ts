import { Module } from '@nestjs/common';
import { ProductRepository } from './product.repository';
import { ProductsController } from './products.controller';

/** The products feature of the sample app. */
@Module({ controllers: [ProductsController], providers: [ProductRepository], exports: [ProductRepository] })
export class ProductsModule {}
