/**
 * The bounds of every migration request, in one place: `DataMigrationService` enforces them, the
 * `MigrationModule` options resolver bounds its defaults by them, and the REST layer's validation and
 * OpenAPI document are built from them, so the three cannot disagree.
 *
 * @example
 * ```ts
 * const { max } = MIGRATION_REQUEST_LIMITS.batchSize; // 5000
 * ```
 */
export const MIGRATION_REQUEST_LIMITS = {
  /** Rows read and enqueued per page (`batchSize`, and the module's `defaultBatchSize`). */
  batchSize: { min: 1, max: 5000 },
  /** Provider requests per minute (`rateLimit`, and the module's `defaultRateLimit`). */
  rateLimit: { min: 1, max: 1_000_000 },
  /** Lists of entity ids (`filters.ids`, `entityIds` of a retry): how many, and the length of each. */
  entityIds: { minItems: 1, maxItems: 10_000, maxLength: 255 },
  /** Who acts (`actor`, `createdBy`): recorded in the audit log and the job row. */
  actor: { minLength: 1, maxLength: 255 },
  /** Why a job is paused (`reason`), kept as the job's errorMessage until it resumes. */
  pauseReason: { minLength: 1, maxLength: 500 },
  /** A job's token budget (`maxTokens`, and the module's `budgets.*Tokens`). */
  maxTokens: { min: 1, max: 1_000_000_000_000 },
  /** A job's budget in USD (`maxCost`, and the module's `budgets.*Cost`); above 0. */
  maxCost: { max: 1_000_000 },
  /** Pagination of the job list (`limit`, `offset`). */
  jobList: { defaultLimit: 50, maxLimit: 500, maxOffset: 1_000_000 },
} as const;

/** The type of {@link MIGRATION_REQUEST_LIMITS}. */
export type MigrationRequestLimits = typeof MIGRATION_REQUEST_LIMITS;
