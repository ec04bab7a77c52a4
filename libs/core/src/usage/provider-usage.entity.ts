import { Column, Entity, PrimaryColumn } from 'typeorm';

const double = { type: 'double precision' as const, default: 0 };

/**
 * What the embedding providers were asked and billed per UTC day, scope and model (`ai_provider_usage`):
 * live indexing, backfills (every migration job's share too, whose own totals are on the job) and search
 * queries. Rows are added to in the transactions that record the work they paid for.
 */
@Entity('ai_provider_usage')
export class ProviderUsageRecord {
  @PrimaryColumn({ type: 'date' })
  day: string;

  /** `live`, `backfill` or `search`. */
  @PrimaryColumn({ type: 'varchar', length: 10 })
  scope: string;

  @PrimaryColumn({ type: 'varchar', length: 50 })
  provider: string;

  @PrimaryColumn({ type: 'varchar', length: 200 })
  model: string;

  @Column({ ...double })
  requests: number;

  @Column({ name: 'failed_requests', ...double })
  failedRequests: number;

  @Column({ ...double })
  tokens: number;

  @Column({ name: 'estimated_tokens', ...double })
  estimatedTokens: number;

  /** USD at the configured price of the model when the usage was recorded. */
  @Column({ ...double })
  cost: number;
}
