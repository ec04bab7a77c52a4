import { IndexingPriority, type IndexingQueueService } from '@ai-infrastructure/core';
import type { EntityPageReader, EntityPageRow, PgVectorStore } from '@ai-infrastructure/core/internal';
import type { DataSource } from 'typeorm';
import { VECTOR_PASS_START, type LeasedJob, type MigrationJobRepository } from '../job/migration-job.repository';
import { MAX_FINDINGS_PER_KIND, recordFindings } from './migration-verify-findings';

/** What the runner gives the producer of verification pages. */
export interface VerifyProducerContext {
  dataSource: DataSource;
  jobs: MigrationJobRepository;
  pages: EntityPageReader;
  queue: IndexingQueueService;
  vectorStore: PgVectorStore;
  /** This instance's name in the producer leases. */
  instanceId: string;
  leaseMs: number;
  /** The rate limit of a job that has none. */
  defaultRateLimit: number;
}

/** What one verification page did. */
export interface VerifyPageResult {
  /** The page was committed (false: the fence stopped it, e.g. the job was paused or taken over). */
  produced: boolean;
  /** Which pass the page belonged to. */
  pass: 'rows' | 'vectors' | 'done';
  /** Rows (or vectors) read. */
  read: number;
  /** Rows re-queued as fixes (their snapshots can be handed to this process's workers). */
  enqueued: EntityPageRow[];
}

/**
 * The producer of a VERIFY job: one page per call, each committed in one transaction fenced by the job's
 * producer lease and checkpoint (like a backfill page), so pause, cancel and a takeover stop it at once and
 * a crash neither skips nor counts a page twice.
 *
 * 1. Rows pass, keyset over the entity table from `checkpoint` (`EntityPageReader.readPage` with the
 *    job's generation): a row without a vector is MISSING, a vector with another content hash STALE. The
 *    counters move with the checkpoint; with `verifyFix` the page's missing and stale rows are queued at
 *    LOW priority owned by the job (so their outcomes count into the job and it completes when they are
 *    done), paced by the job's rate limit exactly like backfill items.
 * 2. Vectors pass, keyset over the generation's vectors from `vectorCheckpoint`: a vector without a row is
 *    ORPHANED; with `verifyFix` it is deleted in the page's transaction, after locking it and checking
 *    again that its row is still absent (a row created meanwhile keeps its vector).
 * 3. At the end, the vectors of the entity type filed under generations that are not maintained are
 *    counted as FOREIGN (reported only: retiring a generation deletes its rows), and the producer is done.
 *
 * Findings are listed up to {@link MAX_FINDINGS_PER_KIND} per kind, in the transactions that count them.
 */
export class MigrationVerifyProducer {
  constructor(private readonly ctx: VerifyProducerContext) {}

  /** Produces the job's next page; `perRequest` is the items one provider request carries (for pacing). */
  async producePage(job: LeasedJob, perRequest: number): Promise<VerifyPageResult> {
    if (job.generationId === null) throw new Error(`Verification job ${job.id} has no generation; start verifications with startVerification().`);
    return job.vectorCheckpoint === null ? this.rowsPage(job, job.generationId, perRequest) : this.vectorsPage(job, job.generationId);
  }

  private async rowsPage(job: LeasedJob, generationId: number, perRequest: number): Promise<VerifyPageResult> {
    const { dataSource, jobs, pages, queue } = this.ctx;
    const rows = await pages.readPage(job.entityType, { afterId: job.checkpoint, limit: job.batchSize, generationId });
    if (rows.length === 0) {
      const produced = await dataSource.transaction((manager) => jobs.startVectorPass(manager, job.id, this.ctx.instanceId, job.checkpoint, this.ctx.leaseMs));
      return { produced, pass: 'rows', read: 0, enqueued: [] };
    }
    const missing = rows.filter((r) => r.storedHash === null);
    const stale = rows.filter((r) => r.storedHash !== null && r.storedHash !== r.hash);
    const toEnqueue = job.verifyFix ? rows.filter((r) => r.storedHash === null || r.storedHash !== r.hash) : [];
    const produced = await dataSource.transaction(async (manager) => {
      const moved = await jobs.moveVerifyCheckpoint(manager, {
        jobId: job.id,
        instanceId: this.ctx.instanceId,
        from: job.checkpoint,
        to: rows[rows.length - 1].entityId,
        skipped: rows.length - toEnqueue.length,
        enqueued: toEnqueue.length,
        leaseMs: this.ctx.leaseMs,
        perRequest,
        defaultRateLimit: this.ctx.defaultRateLimit,
        missing: missing.length,
        stale: stale.length,
      });
      if (!moved) return false;
      const finding = (r: EntityPageRow) => ({ entityId: r.entityId, generationId });
      await recordFindings(manager, job.id, 'MISSING', missing.map(finding), moved.missingBefore);
      await recordFindings(manager, job.id, 'STALE', stale.map(finding), moved.staleBefore);
      // The fixes go in like a backfill page's items: one request's worth at the job's release time, then
      // one every spacing, so the job's rate limit holds for them too. A stale row needs no force: its
      // vector's hash differs, so the worker embeds it.
      for (let i = 0; i < toEnqueue.length; i += perRequest) {
        await queue.enqueue(
          toEnqueue.slice(i, i + perRequest).map((r) => ({ entityType: job.entityType, entityId: r.entityId, priority: IndexingPriority.LOW, owner: job.id })),
          manager,
          { runAfter: new Date(moved.releaseAt.getTime() + (i / perRequest) * moved.spacingSeconds * 1000), wake: false },
        );
      }
      return true;
    });
    return { produced, pass: 'rows', read: rows.length, enqueued: produced ? toEnqueue : [] };
  }

  private async vectorsPage(job: LeasedJob, generationId: number): Promise<VerifyPageResult> {
    const { dataSource, jobs, pages, vectorStore } = this.ctx;
    const from = job.vectorCheckpoint ?? VECTOR_PASS_START;
    const page = await pages.readVectorPage(job.entityType, generationId, from === VECTOR_PASS_START ? null : from, job.batchSize);
    if (page.entityIds.length === 0) {
      const produced = await dataSource.transaction(async (manager) => {
        const foreign = await vectorStore.foreignVectors(job.entityType, MAX_FINDINGS_PER_KIND, manager);
        if (!(await jobs.markVerifyDone(manager, job.id, this.ctx.instanceId, from, foreign.count))) return false;
        await recordFindings(manager, job.id, 'FOREIGN', foreign.items, 0);
        return true;
      });
      return { produced, pass: 'done', read: 0, enqueued: [] };
    }
    const produced = await dataSource.transaction(async (manager) => {
      // Fixing: the orphans' vectors are locked before the job row (the order of the workers, which write
      // vectors and then count into the job), and only those whose row is still absent are deleted.
      const orphans = job.verifyFix ? await pages.lockOrphans(job.entityType, generationId, page.orphans, manager) : page.orphans;
      const moved = await jobs.moveVectorCheckpoint(manager, {
        jobId: job.id,
        instanceId: this.ctx.instanceId,
        from,
        to: page.entityIds[page.entityIds.length - 1],
        orphaned: orphans.length,
        leaseMs: this.ctx.leaseMs,
      });
      if (!moved) return false;
      await recordFindings(
        manager,
        job.id,
        'ORPHANED',
        orphans.map((entityId) => ({ entityId, generationId })),
        moved.orphanedBefore,
      );
      if (job.verifyFix) await vectorStore.delete(job.entityType, orphans, manager, generationId);
      return true;
    });
    return { produced, pass: 'vectors', read: page.entityIds.length, enqueued: [] };
  }
}
