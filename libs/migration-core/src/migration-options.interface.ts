/**
 * Options of {@link MigrationModule} — the spec's `ai.migration` properties plus lease timing.
 *
 * @example
 * ```ts
 * MigrationModule.forRoot({ defaultBatchSize: 500, maxConcurrentJobs: 3 })
 * ```
 */
export interface MigrationModuleOptions {
  /** Run migration producers in this instance. Default true (the API still works when false). */
  enabled?: boolean;
  /** Rows read and enqueued per page when a request gives no batchSize. Default 500. */
  defaultBatchSize?: number;
  /** Provider requests per minute for a job when the request gives none. Default 100. */
  defaultRateLimit?: number;
  /** Most jobs RUNNING or PAUSED at once. Default 3. */
  maxConcurrentJobs?: number;
  /** Completed/failed/cancelled jobs older than this are deleted. Default 30. */
  cleanupCompletedAfterDays?: number;
  /** Lease of the instance that drives a job's producer, in ms. Default 30,000. */
  leaseMs?: number;
  /** How often the runner looks for work, in ms. Default 500. */
  pollIntervalMs?: number;
  /**
   * Provider price in USD per 1M tokens for models without a price in `AiCoreModule`'s `pricing` (which
   * takes precedence and also prices live indexing and search). Default 0.
   */
  pricePerMillionTokens?: number;
  /** Spending limits of backfills (docs/migration-guide.md, "Controlling cost"). */
  budgets?: MigrationBudgetOptions;
  /** Index generations: their automatic backfill and the quality gate before a cutover. */
  generations?: MigrationGenerationOptions;
}

/**
 * Spending limits of backfills. A job pauses with reason BUDGET_EXCEEDED before a provider request that
 * would take it over a limit; live indexing and search are never limited by these.
 *
 * @example
 * ```ts
 * MigrationModule.forRoot({ budgets: { maxCostPerJob: 5, dailyMaxCost: 20 } })
 * ```
 */
export interface MigrationBudgetOptions {
  /** maxTokens of a job whose request gives none. Default: no limit. */
  maxTokensPerJob?: number;
  /** maxCost (USD) of a job whose request gives none. Default: no limit. */
  maxCostPerJob?: number;
  /** Most tokens all backfills together may use per UTC day. Default: no limit. */
  dailyMaxTokens?: number;
  /** Most USD all backfills together may spend per UTC day. Default: no limit. */
  dailyMaxCost?: number;
}

/** How the migration module builds and validates index generations (docs/migration-guide.md, "Change the embedding model"). */
export interface MigrationGenerationOptions {
  /**
   * Start the backfill of a BUILDING generation that has no job yet (one a configuration change recorded at
   * startup). Default true; false leaves it to `POST /api/ai/migration/start` with its `generationId`.
   */
  autoBuild?: boolean;
  /** Golden-query file (YAML or JSON) the quality gate runs when a validation request brings no queries. */
  goldenQueriesPath?: string;
  /** Hits compared per golden query. Default 10. */
  k?: number;
  /** Least mean recall@k over golden queries with expected ids. Default 0.8. */
  minRecall?: number;
  /** Least mean overlap@k with the serving generation. Default 0: reported, not enforced (another model ranks differently). */
  minOverlap?: number;
  /** Most rows without a vector in the generation. Default 0. */
  maxMissing?: number;
  /** Most stale vectors in the generation. Default 0. */
  maxStale?: number;
}
