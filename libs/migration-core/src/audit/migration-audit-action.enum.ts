/** What an audit entry records: the operator actions on a job or an index generation. */
export enum MigrationAuditAction {
  START = 'start',
  PAUSE = 'pause',
  RESUME = 'resume',
  CANCEL = 'cancel',
  RETHROTTLE = 'rethrottle',
  /** The job's budget (maxTokens, maxCost) was changed. */
  BUDGET = 'budget',
  RETRY_FAILED = 'retry-failed',
  /** A verification job was started (with or without fix). */
  VERIFY = 'verify',
  GENERATION_CREATE = 'generation-create',
  GENERATION_VALIDATE = 'generation-validate',
  /** A cutover; `details.forced` when the gate had not passed. */
  GENERATION_CUTOVER = 'generation-cutover',
  GENERATION_ROLLBACK = 'generation-rollback',
  GENERATION_RETIRE = 'generation-retire',
}
