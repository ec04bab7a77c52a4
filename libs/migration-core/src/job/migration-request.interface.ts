/** Row filters of a migration, pushed into SQL. */
export interface MigrationFilters {
  /** Only entities created before this instant (ISO-8601 date or date-time). */
  createdBefore?: string;
  /** Only entities created at or after this instant. */
  createdAfter?: string;
  /** Only these entity ids. */
  ids?: string[];
}

/**
 * What to migrate and how.
 *
 * @example
 * ```ts
 * await migrations.startMigration({ entityType: 'product', batchSize: 1000, filters: { createdBefore: '2024-01-01' } });
 * ```
 */
export interface MigrationRequest {
  entityType: string;
  /** Rows per page, 1..5000. Default: the module's defaultBatchSize. */
  batchSize?: number;
  filters?: MigrationFilters;
  /** Provider requests per minute for this job. Default: the module's defaultRateLimit. */
  rateLimit?: number;
  /** Re-embed entities whose stored hash already matches. Default false. */
  reindexExisting?: boolean;
  /** Who started the job (stored as created_by). */
  createdBy?: string;
  /**
   * The index generation to fill: a BUILDING one (a model or field change), or any maintained one.
   * Default: the generation serving the entity type.
   */
  generationId?: number;
  /**
   * Token budget: the job pauses (reason BUDGET_EXCEEDED) before a provider request that would take its
   * tokensUsed over this. Default: the module's `budgets.maxTokensPerJob` (none unless set).
   */
  maxTokens?: number;
  /** Budget in USD, like `maxTokens` for costUsed. Default: the module's `budgets.maxCostPerJob`. */
  maxCost?: number;
  /**
   * How the job's texts reach the provider: `sync` (default) — embeddings requests as fast as the rate
   * limits allow; `batch` — the provider's Batch API (OpenAI: up to 24 hours, half the price), for large
   * backfills that can wait. Live indexing is always synchronous.
   */
  mode?: MigrationMode;
}

/** How a job's texts reach the embedding provider (see {@link MigrationRequest.mode}). */
export type MigrationMode = 'sync' | 'batch';

/** The values of {@link MigrationMode}, for validation and API documentation. */
export const MIGRATION_MODES: readonly MigrationMode[] = ['sync', 'batch'];

/** A change of a running or paused job's budget; `null` removes that limit, an absent field keeps it. */
export interface MigrationBudgetUpdate {
  maxTokens?: number | null;
  maxCost?: number | null;
}

/** Query of getAllJobs. */
export interface MigrationJobQuery {
  status?: string;
  entityType?: string;
  /** Default 50, at most 500. */
  limit?: number;
  offset?: number;
}
