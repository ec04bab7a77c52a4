import { AICapable } from '@ai-infrastructure/core';
import { forwardRef } from '@nestjs/common';
import { Column, CreateDateColumn, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { ProductRepository } from './product.repository';

/**
 * A catalogue product: the sample's AI-searchable entity. `forwardRef` because this file and the
 * repository's import each other.
 */
@Entity('products')
@AICapable({ entityType: 'product', migrationRepository: forwardRef(() => ProductRepository) })
export class Product {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'varchar', length: 200 })
  name: string;

  @Column({ type: 'text' })
  description: string;

  @Index('products_category_idx')
  @Column({ type: 'varchar', length: 100 })
  category: string;

  @Column({ type: 'numeric', precision: 10, scale: 2, transformer: { to: (v: number) => v, from: (v: string | null) => (v === null ? null : Number(v)) } })
  price: number;

  @Index('products_created_at_idx')
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
}
