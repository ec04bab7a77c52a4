import { Column, Entity, PrimaryColumn } from 'typeorm';

const double = { type: 'double precision' as const };

/**
 * One shared token bucket per provider account (`ai_provider_capacity`): the requests and tokens per
 * minute every instance of a cluster may still send to one provider, model and API key together. Each
 * instance leases small slices of it with one atomic statement (see ProviderCapacityStore); the row is
 * written by those statements only, never through this entity, which exists so TypeORM knows the table.
 */
@Entity('ai_provider_capacity')
export class ProviderCapacityRecord {
  /** The provider's name, e.g. `openai`. */
  @PrimaryColumn({ type: 'varchar', length: 50 })
  provider: string;

  /** The model the limits are for (OpenAI limits each model separately). */
  @PrimaryColumn({ type: 'varchar', length: 200 })
  model: string;

  /**
   * A fingerprint of the endpoint and API key (a truncated SHA-256, never the key), so two keys with their
   * own limits get their own buckets; empty for providers without a key.
   */
  @PrimaryColumn({ type: 'varchar', length: 64 })
  account: string;

  /** Requests per minute of the instance that last leased, for operators (each statement refills at its caller's rate). */
  @Column({ name: 'requests_per_minute', ...double })
  requestsPerMinute: number;

  /** Tokens per minute of the instance that last leased. */
  @Column({ name: 'tokens_per_minute', ...double })
  tokensPerMinute: number;

  /** Requests still available at `refilled_at`. */
  @Column({ ...double })
  requests: number;

  /** Tokens still available at `refilled_at`. */
  @Column({ ...double })
  tokens: number;

  /** Instant up to which refill has been added (the database's clock, which every instance shares). */
  @Column({ name: 'refilled_at', type: 'timestamptz' })
  refilledAt: Date;

  /** No lease is granted before this instant: the provider answered 429 with Retry-After, or its quota ran out. */
  @Column({ name: 'blocked_until', type: 'timestamptz', nullable: true })
  blockedUntil: Date | null;

  /** When an instance last leased from or wrote to the bucket. */
  @Column({ name: 'updated_at', type: 'timestamptz' })
  updatedAt: Date;
}
