import { Column, Entity, PrimaryColumn } from 'typeorm';

/**
 * Which generation serves search for an entity type (`ai_index_aliases`): one row per entity type, changed
 * by one UPDATE in the cutover's transaction, so every instance's next search uses the new generation.
 * `previousGenerationId` is what `rollback` serves again.
 */
@Entity('ai_index_aliases')
export class IndexAlias {
  @PrimaryColumn({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @Column({ name: 'serving_generation_id', type: 'int' })
  servingGenerationId: number;

  @Column({ name: 'previous_generation_id', type: 'int', nullable: true })
  previousGenerationId: number | null;

  @Column({ name: 'updated_at', type: 'timestamptz', default: () => 'now()' })
  updatedAt: Date;
}
