import { Check, Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { IndexGenerationState } from './index-generation-state.enum';
import type { GenerationTextDefinition } from './generation-definition';
import type { GenerationQualityReport } from './generation-quality.interface';

/**
 * One complete index of one entity type (`ai_index_generations`): the embedding space (provider, model,
 * dimensions) and the text definition (embeddable fields and weights) its vectors were computed with, and
 * where it is in its life ({@link IndexGenerationState}). Vector rows carry their generation's id.
 */
@Entity('ai_index_generations')
@Check('ai_index_generations_state_ck', `"state" IN ('BUILDING', 'READY', 'SERVING', 'RETIRED', 'FAILED', 'DISCARDED')`)
@Index('ai_index_generations_entity_type_idx', ['entityType', 'state'])
@Index('ai_index_generations_building_uq', { synchronize: false })
export class IndexGeneration {
  @PrimaryGeneratedColumn('identity', { type: 'int', generatedIdentity: 'ALWAYS' })
  id: number;

  @Column({ name: 'entity_type', type: 'varchar', length: 100 })
  entityType: string;

  @Column({ type: 'varchar', length: 10 })
  state: IndexGenerationState;

  /** The provider's `name` (`hashing`, `openai`, …); `adopted` for rows that predate generations. */
  @Column({ name: 'provider_name', type: 'varchar', length: 100 })
  providerName: string;

  @Column({ type: 'varchar', length: 200 })
  model: string;

  @Column({ type: 'int' })
  dimensions: number;

  /** Embeddable fields and weights; null for adopted rows until the first startup records the configuration's. */
  @Column({ name: 'text_definition', type: 'jsonb', nullable: true })
  textDefinition: GenerationTextDefinition | null;

  /** Hash of the space and text definition: two generations with the same one index the same thing. */
  @Column({ name: 'definition_hash', type: 'char', length: 64, nullable: true })
  definitionHash: string | null;

  /** When its backfill completed (the vector index is built after that, then it is READY). */
  @Column({ name: 'loaded_at', type: 'timestamptz', nullable: true })
  loadedAt: Date | null;

  /** Its HNSW index on PostgreSQL (none on the embedded database, which scans exactly). */
  @Column({ name: 'index_name', type: 'varchar', length: 63, nullable: true })
  indexName: string | null;

  /** The last quality gate's report (coverage and golden queries). */
  @Column({ name: 'quality_report', type: 'jsonb', nullable: true })
  qualityReport: GenerationQualityReport | null;

  @Column({ name: 'gate_passed', type: 'boolean', nullable: true })
  gatePassed: boolean | null;

  @Column({ name: 'validated_at', type: 'timestamptz', nullable: true })
  validatedAt: Date | null;

  @Column({ name: 'failure_reason', type: 'text', nullable: true })
  failureReason: string | null;

  @Column({ name: 'created_at', type: 'timestamptz', default: () => 'now()' })
  createdAt: Date;

  @Column({ name: 'ready_at', type: 'timestamptz', nullable: true })
  readyAt: Date | null;

  @Column({ name: 'serving_since', type: 'timestamptz', nullable: true })
  servingSince: Date | null;

  /** When another generation took over serving from it (the retention period counts from here). */
  @Column({ name: 'superseded_at', type: 'timestamptz', nullable: true })
  supersededAt: Date | null;

  @Column({ name: 'retired_at', type: 'timestamptz', nullable: true })
  retiredAt: Date | null;
}
