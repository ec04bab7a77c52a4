/** One page a job's producer committed (for metrics and benchmarks; see MigrationRunnerService.onPage). */
export interface MigrationPageEvent {
  jobId: string;
  entityType: string;
  /** Rows read in this page. */
  rows: number;
  /** Rows handed to the indexing queue. */
  enqueued: number;
  /** Rows already up to date. */
  skipped: number;
  /** Time from the start of the page's transaction to its commit, in milliseconds. */
  durationMs: number;
}
