/**
 * Why a PAUSED job is paused. `errorMessage` says it in a sentence (with the amounts for a budget); this is
 * the code a client or an alert can match on.
 */
export enum MigrationPauseReason {
  /** Paused by a person or a client (pause endpoint, service call). */
  OPERATOR = 'OPERATOR',
  /** The embedding provider reported an exhausted quota. */
  QUOTA_EXHAUSTED = 'QUOTA_EXHAUSTED',
  /** The embedding provider failed every request for longer than `providerRetry.outagePauseMs`. */
  PROVIDER_UNAVAILABLE = 'PROVIDER_UNAVAILABLE',
  /** The next provider request would have exceeded the job's maxTokens/maxCost or the daily backfill cap. */
  BUDGET_EXCEEDED = 'BUDGET_EXCEEDED',
}
