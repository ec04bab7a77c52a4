import { ProviderUsageService } from '../usage/provider-usage.service';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE, VECTOR_STORE } from '../ai-core.constants';
import { EmbeddingProviderRegistry } from '../embedding/embedding-provider.registry';
import { IndexGenerationCatalog } from '../generation/index-generation.catalog';
import { quoteTablePath } from '../common/table-path';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import { EmbeddingService } from '../embedding/embedding.service';
import { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import { EntitySnapshotCache } from '../entity/entity-snapshot.cache';
import { IndexingHooks } from '../queue/indexing-hooks';
import { IndexingWakeup } from '../queue/indexing-wakeup';
import { IndexingPriority } from '../queue/indexing-request.interface';
import type { VectorStore } from '../vector-store/vector-store.interface';
import { IndexingBatchProcessor, type BatchSteps } from './indexing-batch.processor';
import { IndexingClaimsRepository } from './indexing-claims.repository';
import { LiveWorkGate } from './live-work.gate';
import { shutdownController } from './shutdown-signal';

/** Claimed items between two vacuums of the queue table on PGlite. */
const VACUUM_EVERY_ITEMS = 10_000;

/**
 * The indexing workers of this app instance: `concurrency` loops that claim a batch, process it and
 * complete it, plus a periodic sweep that reclaims expired leases (also run at startup). Every instance
 * runs workers unless `worker.enabled` is false; they coordinate only through the database.
 *
 * Shutdown (with `app.enableShutdownHooks()`): loops stop claiming and send no new provider request; requests
 * already sent get `worker.shutdownGraceMs` to answer and their vectors are written (the provider bills
 * them either way), then whatever is still in flight is aborted. Items not embedded are released without
 * consuming an attempt, so nothing waits for a lease to expire.
 */
@Injectable()
export class IndexingWorkerService implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('IndexingWorker');
  /** Identifies this process in lease rows (for operators; fencing uses per-batch tokens). */
  readonly workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly claims: IndexingClaimsRepository;
  private readonly processor: IndexingBatchProcessor;
  private running = false;
  private loops: Promise<void>[] = [];
  /** Aborts in-flight provider requests (the end of the shutdown grace). */
  private abort = shutdownController();
  /** The graceful stop: no new provider request, in-flight ones may finish. */
  private stopping = shutdownController();
  private sweepTimer?: NodeJS.Timeout;
  private inFlight = 0;
  /** PGlite has no autovacuum: the worker vacuums the queue itself there (see maybeVacuum). */
  private embedded?: Promise<boolean>;
  private claimedSinceVacuum = 0;
  private claimedTotal = 0;
  private nextAnalyzeAt = VACUUM_EVERY_ITEMS;
  private vacuuming?: Promise<void>;

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
    @Inject(VECTOR_STORE) vectorStore: VectorStore,
    private readonly registry: AiEntityRegistry,
    embedding: EmbeddingService,
    private readonly hooks: IndexingHooks,
    private readonly wakeup: IndexingWakeup,
    snapshots: EntitySnapshotCache,
    private readonly gate: LiveWorkGate,
    providers: EmbeddingProviderRegistry,
    generations: IndexGenerationCatalog,
    usage: ProviderUsageService,
  ) {
    this.claims = new IndexingClaimsRepository(dataSource);
    this.processor = new IndexingBatchProcessor(dataSource, options, registry, embedding, vectorStore, this.claims, hooks, snapshots, providers, generations, usage);
  }

  /** @internal The claim/lease SQL, shared with the Batch API's worker. */
  get claimsRepository(): IndexingClaimsRepository {
    return this.claims;
  }

  /** @internal The planning and completion of claimed items, shared with the Batch API's worker. */
  get batchProcessor(): IndexingBatchProcessor {
    return this.processor;
  }

  async onApplicationBootstrap(): Promise<void> {
    if (!this.options.worker.enabled) {
      this.logger.log('Indexing workers are disabled in this instance (worker.enabled = false).');
      return;
    }
    await this.sweepExpiredLeases();
    this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** This process's workers, for operators: its lease-owner id, whether the loops run, and how many. */
  status(): { workerId: string; running: boolean; loops: number; liveLoops: number } {
    const { concurrency, liveConcurrency } = this.options.worker;
    return { workerId: this.workerId, running: this.running, loops: concurrency, liveLoops: liveConcurrency };
  }

  /** Starts the worker loops and the lease sweep (idempotent). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abort = shutdownController();
    this.stopping = shutdownController();
    const { concurrency, liveConcurrency, sweepIntervalMs } = this.options.worker;
    this.loops = [
      ...Array.from({ length: concurrency }, (_, i) => this.loop(i)),
      ...Array.from({ length: liveConcurrency }, (_, i) => this.liveLoop(concurrency + i)),
    ];
    this.sweepTimer = setInterval(() => {
      this.sweepExpiredLeases().catch((e) => this.logger.error(`Lease sweep failed: ${(e as Error).message}`));
    }, sweepIntervalMs);
    this.sweepTimer.unref();
    this.logger.log(`Started ${concurrency} indexing worker loop(s) and ${liveConcurrency} live loop(s) as ${this.workerId}.`);
  }

  /**
   * Stops claiming and sending, gives provider requests in flight `worker.shutdownGraceMs` to answer, aborts
   * the rest and waits until every batch is completed or released.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    clearInterval(this.sweepTimer);
    this.stopping.abort();
    this.wakeup.notify();
    const drained = Promise.all(this.loops);
    let timer: NodeJS.Timeout | undefined;
    const graceOver = new Promise<void>((resolve) => (timer = setTimeout(resolve, this.options.worker.shutdownGraceMs)));
    await Promise.race([drained, graceOver]);
    clearTimeout(timer);
    if (this.inFlight > 0) {
      this.logger.warn(
        `${this.inFlight} batch(es) were still in progress when the shutdown grace of ${this.options.worker.shutdownGraceMs} ms ran out: ` +
          'their provider requests are aborted and their items released for the next worker. Raise worker.shutdownGraceMs if the provider is this slow.',
      );
    }
    this.abort.abort();
    await drained;
    this.loops = [];
    // Fresh signals, so runOnce() after stop() processes its batch instead of releasing it at once.
    this.abort = shutdownController();
    this.stopping = shutdownController();
  }

  /**
   * Puts items whose lease expired (their worker died or stalled) back in the queue; an item that used up
   * its attempts is dead-lettered. Returns the number of items dead-lettered.
   */
  async sweepExpiredLeases(): Promise<number> {
    return this.dataSource.transaction(async (manager) => {
      const dead = await this.claims.requeue(manager, { expired: true }, {
        consumeAttempt: true,
        delayMs: 0,
        error: 'The lease expired before the item was completed (its worker died or stalled).',
      });
      await this.hooks.emitOutcomes(
        manager,
        dead.map((d) => ({ itemId: d.id, entityType: d.entityType, entityId: d.entityId, owner: d.owner, result: 'dead', error: d.lastError ?? undefined })),
      );
      return dead.length;
    });
  }

  /**
   * Claims and processes one batch in the caller's flow (for tools and tests; the loops do this
   * continuously), of items with a priority from `minPriority` to `maxPriority`. Returns the number of
   * items claimed.
   */
  async runOnce(batchSize = this.options.worker.batchSize, minPriority?: number, maxPriority?: number): Promise<number> {
    // A batch of live items only (HIGH and up) takes the database first; any other batch waits its turn
    // before each of its database steps (see LiveWorkGate).
    const live = minPriority !== undefined && minPriority >= IndexingPriority.HIGH;
    let release = live ? this.gate.enter() : undefined;
    let claimed: number;
    try {
      claimed = await this.claimAndProcess(
        batchSize,
        minPriority,
        maxPriority,
        live
          ? { beforeProvider: () => release?.(), afterProvider: () => (release = this.gate.enter()) }
          : { beforeDb: () => this.gate.backfillTurn() },
      );
    } finally {
      release?.();
    }
    if (claimed > 0) await this.maybeVacuum();
    return claimed;
  }

  private async claimAndProcess(batchSize: number, minPriority: number | undefined, maxPriority: number | undefined, steps: BatchSteps): Promise<number> {
    const token = randomUUID();
    await steps.beforeDb?.();
    const items = await this.claims.claim(batchSize, token, this.workerId, this.options.worker.leaseMs, minPriority, maxPriority);
    if (items.length === 0) return 0;
    this.claimedSinceVacuum += items.length;
    this.inFlight++;
    const heartbeat = setInterval(() => {
      this.claims.heartbeat(token, this.options.worker.leaseMs).catch((e) =>
        this.logger.warn(`Heartbeat for lease ${token} failed: ${(e as Error).message}`),
      );
    }, Math.max(250, Math.floor(this.options.worker.leaseMs / 3)));
    heartbeat.unref();
    try {
      await this.processor.process({ token, items }, this.abort.signal, steps, this.stopping.signal);
    } finally {
      clearInterval(heartbeat);
      this.inFlight--;
    }
    return items.length;
  }

  /**
   * Every claimed item leaves dead row versions in the queue table and its indexes. PostgreSQL's
   * autovacuum reclaims them; PGlite has none, and without it every claim scans past all the dead entries
   * of earlier ones, so throughput falls as a backfill proceeds. On PGlite the worker therefore vacuums the
   * queue table after every `VACUUM_EVERY_ITEMS` claimed items (one vacuum at a time per instance), and
   * refreshes the statistics of the tables a batch reads.
   */
  private async maybeVacuum(): Promise<void> {
    if (this.claimedSinceVacuum < VACUUM_EVERY_ITEMS || this.vacuuming) return;
    this.embedded ??= this.dataSource.query(`SELECT version() AS version`).then(([row]) => /PGlite/i.test(row.version));
    if (!(await this.embedded)) return;
    this.claimedSinceVacuum = 0;
    this.claimedTotal += VACUUM_EVERY_ITEMS;
    // Fresh statistics of the tables a batch joins keep the planner on index scans as they grow; they
    // matter when a table's size changed a lot, so they are checked at doubling intervals and refreshed
    // for the tables that grew by a fifth since their last ANALYZE (during a backfill, the vector table;
    // the entity tables it reads usually stay as they are, and sampling them costs as much).
    let analyze = Promise.resolve<unknown>(undefined);
    if (this.claimedTotal >= this.nextAnalyzeAt) {
      this.nextAnalyzeAt *= 2;
      const tables = ['ai_searchable_entities', ...this.registry.all().map((d) => d.metadata.tablePath)].map(quoteTablePath);
      analyze = this.dataSource
        .query(
          `SELECT t.name FROM unnest($1::text[]) AS t(name) JOIN pg_class c ON c.oid = to_regclass(t.name)
            WHERE pg_relation_size(c.oid) / current_setting('block_size')::int > greatest(c.relpages * 1.2, 1)`,
          [tables],
        )
        .then(async (grown: Array<{ name: string }>) => {
          if (grown.length === 0) return;
          // A sample of 3,000 rows instead of 30,000: the batches' queries are key lookups and joins, which
          // need row counts and distinct counts, not fine histograms; rows of the vector table are large.
          await this.dataSource.transaction(async (manager) => {
            await manager.query(`SET LOCAL default_statistics_target = 10`);
            await manager.query(`ANALYZE ${grown.map((t) => t.name).join(', ')}`);
          });
        });
    }
    this.vacuuming = analyze
      .then(() => this.dataSource.query(`VACUUM (ANALYZE) ai_indexing_queue`))
      .then(() => undefined)
      .catch((e) => this.logger.warn(`Vacuuming ai_indexing_queue failed: ${(e as Error).message}`))
      .finally(() => (this.vacuuming = undefined));
    await this.vacuuming;
  }

  /**
   * Resolves once this instance's loops find no runnable work and nothing is in flight (for tests and
   * scripts; pending items with a future `run_after` do not count as runnable).
   */
  async waitForIdle(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [{ runnable }] = await this.dataSource.query(
        `SELECT count(*)::int AS runnable FROM ai_indexing_queue
          WHERE (status = 'PENDING' AND run_after <= now()) OR status = 'ACTIVE'`,
      );
      if (runnable === 0 && this.inFlight === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`IndexingWorkerService.waitForIdle: ${runnable} item(s) still runnable after ${timeoutMs} ms.`);
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private async loop(index: number): Promise<void> {
    const { pollIntervalMs, concurrency, liveShare, liveConcurrency } = this.options.worker;
    // The first loops are kept for live (HIGH) work, so a backfill can never take all the capacity.
    const reserved = index < Math.round(concurrency * liveShare);
    while (this.running) {
      try {
        let claimed: number;
        if (reserved) {
          claimed = await this.runOnce(undefined, IndexingPriority.HIGH);
        } else if (liveConcurrency > 0) {
          // Live loops serve HIGH items in small batches; a live item swept into a 1000-item backfill batch
          // would wait for all of it. Only when there is no other work do these loops help with live items.
          claimed = await this.runOnce(undefined, undefined, IndexingPriority.HIGH - 1);
          if (claimed === 0 && this.running) claimed = await this.runOnce();
        } else {
          claimed = await this.runOnce();
        }
        if (claimed === 0 && this.running) await this.wakeup.wait(pollIntervalMs);
      } catch (error) {
        if (!this.running) break;
        this.logger.error(`Worker loop ${index} failed: ${(error as Error).message}; retrying after ${pollIntervalMs} ms.`);
        await this.wakeup.wait(pollIntervalMs);
      }
    }
  }

  /** A loop reserved for live (HIGH priority) items, in batches of `liveBatchSize`. */
  private async liveLoop(index: number): Promise<void> {
    const { pollIntervalMs, liveBatchSize } = this.options.worker;
    while (this.running) {
      try {
        const claimed = await this.runOnce(liveBatchSize, IndexingPriority.HIGH);
        if (claimed === 0 && this.running) await this.wakeup.live.wait(pollIntervalMs);
      } catch (error) {
        if (!this.running) break;
        this.logger.error(`Live worker loop ${index} failed: ${(error as Error).message}; retrying after ${pollIntervalMs} ms.`);
        await this.wakeup.live.wait(pollIntervalMs);
      }
    }
  }
}
