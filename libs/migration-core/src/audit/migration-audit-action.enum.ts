/** What an audit entry records: the operator actions on a job. */
export enum MigrationAuditAction {
  START = 'start',
  PAUSE = 'pause',
  RESUME = 'resume',
  CANCEL = 'cancel',
  RETHROTTLE = 'rethrottle',
  RETRY_FAILED = 'retry-failed',
}
