import { Body, Controller, Get, NotFoundException, Param, ParseUUIDPipe, Post } from '@nestjs/common';
import { ApiCreatedResponse, ApiNotFoundResponse, ApiOkResponse, ApiTags } from '@nestjs/swagger';
import { CreateProductDto } from './create-product.dto';
import { Product } from './product.entity';
import { ProductRepository } from './product.repository';

/** The sample catalogue: writes go through TypeORM, so live indexing makes new products searchable. */
@ApiTags('products')
@Controller('products')
export class ProductsController {
  constructor(private readonly products: ProductRepository) {}

  @Post()
  @ApiCreatedResponse({ description: 'The created product; it becomes searchable once a worker has embedded it.' })
  create(@Body() dto: CreateProductDto): Promise<Product> {
    return this.products.save(this.products.create(dto));
  }

  @Get(':id')
  @ApiOkResponse({ description: 'The product.' })
  @ApiNotFoundResponse({ description: 'No product has this id.' })
  async findOne(@Param('id', new ParseUUIDPipe()) id: string): Promise<Product> {
    const product = await this.products.findOneBy({ id });
    if (!product) throw new NotFoundException(`Product ${id} does not exist.`);
    return product;
  }
}
