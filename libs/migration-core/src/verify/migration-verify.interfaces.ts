import type { MigrationStatus } from '../job/migration-status.enum';
import type { VerifyFindingKind } from './migration-verify-finding.entity';

/**
 * What to verify and how.
 *
 * @example
 * ```ts
 * const job = await migrations.startVerification({ entityType: 'product', fix: true });
 * ```
 */
export interface VerificationRequest {
  entityType: string;
  /** The generation to verify: any maintained one (BUILDING, READY, SERVING). Default: the serving one. */
  generationId?: number;
  /** Re-queue missing and stale entities (LOW priority, at the job's rate limit) and delete orphaned vectors. Default false (report only). */
  fix?: boolean;
  /** Rows (and vectors) read per page, 1..5000. Default: the module's defaultBatchSize. */
  batchSize?: number;
  /** Provider requests per minute for the fixes. Default: the module's defaultRateLimit. */
  rateLimit?: number;
  /** Who started the job (stored as created_by and in the audit entry). */
  createdBy?: string;
}

/** What a verification job found so far (exact counts; the lists are in {@link VerifyFindingsPage}). */
export interface VerifyReport {
  jobId: string;
  status: MigrationStatus;
  /** The generation verified. */
  generationId: number | null;
  /** Whether the job fixes what it finds. */
  fix: boolean;
  /** Rows of the entity table: at the start, raised to the rows read; once COMPLETED, the rows the job read. */
  sourceRows: number;
  /** Vectors the generation holds now (after the fixes, once they are done). */
  vectors?: number;
  /** Rows without a vector in the generation. */
  missing: number;
  /** Rows whose vector was computed from other content. */
  stale: number;
  /** Vectors whose row does not exist (deleted by a fixing job). */
  orphaned: number;
  /** Vectors of the entity type filed under a generation that is not maintained (retired, discarded, failed, unknown). */
  foreign: number;
  /**
   * Both passes are over, so the counts are final. A fixing job stays RUNNING until the entities it
   * re-queued are processed, then COMPLETED.
   */
  done: boolean;
}

/** Query of a job's findings. */
export interface VerifyFindingsQuery {
  /** Only findings of this kind. */
  kind?: VerifyFindingKind;
  /** Page size, 1..1000. Default 100. */
  limit?: number;
  /** Findings to skip. Default 0. */
  offset?: number;
}

/** A page of a verification job's findings, by kind (MISSING, STALE, ORPHANED, FOREIGN) then entity id. */
export interface VerifyFindingsPage {
  /** Findings recorded for the query's kind (at most MAX_FINDINGS_PER_KIND per kind; the report's counts are exact). */
  total: number;
  items: Array<{ kind: VerifyFindingKind; entityId: string; generationId: number | null }>;
}

/** The bounds of a findings query (the REST layer's validation is built from them). */
export const VERIFY_FINDINGS_LIMITS = { defaultLimit: 100, maxLimit: 1000, maxOffset: 1_000_000 } as const;
