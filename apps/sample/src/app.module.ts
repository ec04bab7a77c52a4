import { AiCoreModule, createAiDataSource } from '@ai-infrastructure/core';
import { MigrationModule } from '@ai-infrastructure/migration-core';
import { AiWebModule } from '@ai-infrastructure/web';
import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ProductsModule } from './products/products.module';
import { sampleCoreOptions, sampleDataSourceOptions, sampleMigrationOptions } from './sample.config';

/** The sample products catalogue: TypeORM on PostgreSQL or embedded PGlite, the AI core, backfill jobs and the web endpoints. */
@Module({
  imports: [
    TypeOrmModule.forRootAsync({
      useFactory: () => ({ type: 'postgres', ...sampleDataSourceOptions() }),
      dataSourceFactory: (options) => createAiDataSource(options!),
    }),
    AiCoreModule.forRootAsync({ useFactory: () => sampleCoreOptions() }),
    MigrationModule.forRootAsync({ useFactory: () => sampleMigrationOptions() }),
    AiWebModule.forRoot(),
    ProductsModule,
  ],
})
export class AppModule {}
