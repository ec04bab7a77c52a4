import { AiCoreModule, createAiDataSource } from '@ai-infrastructure/core';
import { AiWebModule } from '@ai-infrastructure/web';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProductsModule } from './products/products.module';
import { sampleCoreOptions, sampleDataSourceOptions } from './sample.config';

/** The sample products catalogue: TypeORM on PostgreSQL or embedded PGlite, the AI core and its web endpoints. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions() }),
      dataSourceFactory: (options) => createAiDataSource(options!),
    }),
    AiCoreModule.forRootAsync({ useFactory: () => sampleCoreOptions() }),
    AiWebModule.forRoot(),
    ProductsModule,
  ],
})
export class AppModule {}
