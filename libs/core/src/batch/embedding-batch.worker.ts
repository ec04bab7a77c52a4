import { randomUUID } from 'node:crypto';
import { shutdownController } from '../worker/shutdown-signal';
import { BeforeApplicationShutdown, Inject, Injectable, Logger, OnApplicationBootstrap } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import { returnedRows } from '../common/query-result';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import type { EmbeddingBatchApi, EmbeddingBatchRequest, EmbeddingBatchResult, EmbeddingBatchStatus } from '../embedding/embedding-provider.interface';
import { EmbeddingProviderRegistry } from '../embedding/embedding-provider.registry';
import { EmbeddingProviderError } from '../embedding/embedding.errors';
import type { EmbeddingService } from '../embedding/embedding.service';
import type { EntitySnapshot } from '../entity/entity-snapshot.loader';
import { IndexGenerationCatalog, type GenerationTarget } from '../generation/index-generation.catalog';
import { IndexingHooks } from '../queue/indexing-hooks';
import { IndexingPriority } from '../queue/indexing-request.interface';
import { IndexingWakeup } from '../queue/indexing-wakeup';
import { encodeVector } from '../vector-store/vector-codec';
import { toClaimed, type ClaimedItem } from '../worker/indexing-claims.repository';
import { settle, type PlannedItem, type PlannedUnit } from '../worker/indexing-batch.processor';
import { IndexingWorkerService } from '../worker/indexing-worker.service';
import { LiveWorkGate } from '../worker/live-work.gate';

/** Batches looked at per round of a poller. */
const CHECKS_PER_ROUND = 8;
/**
 * How long a submitted batch's items stay claimed: past the provider's 24-hour window with a day to spare,
 * so only a batch nobody looked at for two days (every instance down) loses its claim to the lease sweep —
 * its results are then not applied (the fence), and its items run again.
 */
const BATCH_LEASE_MS = 48 * 60 * 60 * 1000;
/** Files are kept this far below the provider's size limit (the estimate of a line's size is approximate). */
const FILE_SIZE_MARGIN = 0.95;
/** Bytes of a line besides its texts: custom id, method, url, model, encoding, JSON punctuation. */
const LINE_OVERHEAD_BYTES = 200;
/** Retry delay of items whose batch could not be submitted for a passing reason. */
const SUBMIT_RETRY_MS = 30_000;
/** How long an item refused by its owner's budget waits (its job is being paused, which holds it). */
const BUDGET_DELAY_MS = 60_000;

/** What a unit of a submitted item records (`ai_embedding_batch_items.units`). */
interface StoredUnit {
  /** Generation id. */
  g: number;
  /** Action: `embed`, `unchanged` or `metadata`. */
  a: 'embed' | 'unchanged' | 'metadata';
  /** Content hash. */
  h: string | null;
  /** Metadata to store. */
  m: Record<string, unknown> | undefined;
  /** Request (line) number in the batch, input index in it and tokens counted, for `embed`. */
  r?: number;
  i?: number;
  t?: number;
}

/** A batch row as the poller reads it. */
interface OpenBatch {
  id: string;
  status: 'SUBMITTING' | 'IN_FLIGHT';
  model: string;
  dimensions: number;
  leaseToken: string;
  remoteId: string | null;
  cancelRequested: boolean;
  createdAgeMs: number;
}

/** A claimed item to embed in a batch, with its prepared inputs (one per embed unit). */
interface Candidate {
  p: PlannedItem;
  service: EmbeddingService;
  inputs: Array<{ text: string; tokens: number }>;
}

/** One remote batch being built from claimed items of one embedding space. */
interface Draft {
  service: EmbeddingService;
  api: EmbeddingBatchApi;
  requests: Array<{ texts: string[]; tokens: number }>;
  items: Array<{ p: PlannedItem; units: StoredUnit[] }>;
  inputs: number;
  bytes: number;
  tokens: number;
}

/**
 * Sends the items of `mode: 'batch'` backfills (queue lane {@link IndexingPriority.BATCH}) through the
 * provider's Batch API and applies the results. One loop per instance:
 * - **check**: takes due batches (any instance's; `FOR UPDATE SKIP LOCKED`), asks the provider for their
 *   status and applies finished ones — vectors written under the synchronous path's rules (lease fence,
 *   row-version check: an entity changed since it was read goes back to the queue instead of being
 *   overwritten), failed requests re-queued with an attempt used (dead-lettered when exhausted), requests
 *   an expired or cancelled batch never ran re-queued without one. Usage is recorded at the batch price with
 *   the items, once: a batch applied again after a crash finds its applied items gone and charges nothing
 *   for them. A batch stuck in "submitting" past `batch.submitTimeoutMs` is adopted if the provider has it
 *   (found by the metadata it was sent with), else its items go back.
 * - **submit**: when `maxInFlight` allows and `maxInputsPerBatch` items are ready (or the oldest waited
 *   `gatherMs`), claims them, plans them like a worker batch (items that need no embedding are completed at
 *   once), records the batch and its items with the plan in one transaction — the items stay claimed under
 *   the batch's lease — and only then uploads the file and creates the provider batch.
 * @internal
 */
@Injectable()
export class EmbeddingBatchWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly logger = new Logger('EmbeddingBatches');
  private running = false;
  private loopDone?: Promise<void>;
  private abort = shutdownController();

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
    private readonly workers: IndexingWorkerService,
    private readonly providers: EmbeddingProviderRegistry,
    private readonly generations: IndexGenerationCatalog,
    private readonly hooks: IndexingHooks,
    private readonly wakeup: IndexingWakeup,
    private readonly gate: LiveWorkGate,
  ) {}

  onApplicationBootstrap(): void {
    // Instances without workers, or without a provider that has a Batch API, leave batches to others.
    if (!this.options.worker.enabled || !this.providers.all().some((s) => s.provider.batches)) return;
    this.running = true;
    this.abort = shutdownController();
    this.loopDone = this.loop();
  }

  async beforeApplicationShutdown(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.abort.abort();
    this.wakeup.notify();
    await this.loopDone;
  }

  /** One round: checks the due batches, then submits one if items are ready. Returns whether it did anything. */
  async runOnce(): Promise<boolean> {
    const checked = await this.checkDue();
    const submitted = await this.submitReady();
    return checked || submitted;
  }

  private async loop(): Promise<void> {
    while (this.running) {
      let worked = false;
      try {
        worked = await this.runOnce();
      } catch (error) {
        if (!this.running) break;
        this.logger.error(`Batch round failed: ${(error as Error).message}`);
      }
      if (!worked && this.running) await this.wakeup.wait(Math.min(this.options.worker.pollIntervalMs * 4, this.options.batch.pollIntervalMs));
    }
  }

  // ---------------------------------------------------------------- check and apply

  private async checkDue(): Promise<boolean> {
    const rows = returnedRows<any>(
      await this.dataSource.query(
        `UPDATE ai_embedding_batches
            SET next_check_at = now() + make_interval(secs => $1::float8 / 1000)
          WHERE id = ANY(ARRAY(SELECT id FROM ai_embedding_batches
                                WHERE status IN ('SUBMITTING', 'IN_FLIGHT') AND next_check_at <= now()
                                ORDER BY next_check_at LIMIT $2 FOR UPDATE SKIP LOCKED))
         RETURNING id::text AS id, status, model, dimensions, lease_token, remote_id, cancel_requested,
                   extract(epoch FROM now() - created_at) * 1000 AS created_age_ms`,
        [this.options.batch.pollIntervalMs, CHECKS_PER_ROUND],
      ),
    );
    for (const r of rows) {
      const batch: OpenBatch = {
        id: r.id,
        status: r.status,
        model: r.model,
        dimensions: Number(r.dimensions),
        leaseToken: r.lease_token,
        remoteId: r.remote_id,
        cancelRequested: r.cancel_requested,
        createdAgeMs: Number(r.created_age_ms),
      };
      try {
        await this.check(batch);
      } catch (error) {
        // Provider or database trouble: the batch is looked at again at its next check.
        this.logger.warn(`Checking batch ${batch.id} failed; it is checked again in ${this.options.batch.pollIntervalMs} ms: ${(error as Error).message}`);
        await this.dataSource.query(`UPDATE ai_embedding_batches SET last_error = $2 WHERE id = $1`, [batch.id, (error as Error).message]);
      }
    }
    return rows.length > 0;
  }

  private async check(batch: OpenBatch): Promise<void> {
    const api = this.apiFor(batch);
    if (batch.status === 'SUBMITTING') {
      if (batch.createdAgeMs < this.options.batch.submitTimeoutMs) return;
      await this.recoverSubmission(batch, api);
      return;
    }
    if (batch.cancelRequested) {
      await api.cancel(batch.remoteId!).catch((error) => this.logger.warn(`Cancelling provider batch ${batch.remoteId} failed: ${(error as Error).message}`));
    }
    const status = await api.status(batch.remoteId!);
    if (status.state === 'pending') {
      await this.dataSource.query(`UPDATE ai_embedding_batches SET remote_status = $2 WHERE id = $1`, [batch.id, status.providerStatus]);
      return;
    }
    await this.apply(batch, api, status);
  }

  /** A batch whose submitter did not finish: adopt the provider's batch if it was created, else put the items back. */
  private async recoverSubmission(batch: OpenBatch, api: EmbeddingBatchApi): Promise<void> {
    const remoteId = await api.find(batchMetadata(batch.id, batch.leaseToken));
    if (remoteId) {
      await this.dataSource.query(
        `UPDATE ai_embedding_batches SET status = 'IN_FLIGHT', remote_id = $2, submitted_at = coalesce(submitted_at, now()) WHERE id = $1 AND status = 'SUBMITTING'`,
        [batch.id, remoteId],
      );
      this.logger.warn(`Batch ${batch.id} was left in submission by its instance; adopted provider batch ${remoteId}.`);
      return;
    }
    await this.release(batch.id, batch.leaseToken, 'Its instance stopped before the batch reached the provider; re-queued.', { consumeAttempt: false, delayMs: 0 }, 'FAILED');
    this.logger.warn(`Batch ${batch.id} never reached the provider (its instance stopped while submitting); its items were re-queued.`);
  }

  /**
   * Ends a batch that will bring no results: `status` and the error on its row, its items (those still held
   * under its lease) back to the queue, in one transaction.
   */
  private async release(
    batchId: string,
    token: string,
    error: string,
    policy: { consumeAttempt: boolean; delayMs?: number },
    status: 'FAILED',
  ): Promise<void> {
    const claims = this.workers.claimsRepository;
    await this.dataSource.transaction(async (manager) => {
      const ended = returnedRows(
        await manager.query(
          `UPDATE ai_embedding_batches SET status = $2, last_error = $3, finished_at = now() WHERE id = $1 AND status IN ('SUBMITTING', 'IN_FLIGHT') RETURNING id`,
          [batchId, status, error],
        ),
      );
      if (ended.length === 0) return;
      const ids = returnedRows<{ item_id: string }>(await manager.query(`SELECT item_id::text AS item_id FROM ai_embedding_batch_items WHERE batch_id = $1`, [batchId])).map((r) => r.item_id);
      const dead = await claims.requeue(manager, { ids, token }, {
        consumeAttempt: policy.consumeAttempt,
        delayMs: policy.delayMs,
        backoff: { baseMs: this.options.queue.backoffBaseMs, maxMs: this.options.queue.backoffMaxMs },
        error,
      });
      await this.hooks.emitOutcomes(
        manager,
        dead.map((d) => ({ itemId: d.id, entityType: d.entityType, entityId: d.entityId, owner: d.owner, result: 'dead', error: d.lastError ?? undefined })),
      );
    });
    this.wakeup.notify();
  }

  /** Applies a finished batch's results, in chunks; the last chunk's transaction marks the batch applied. */
  private async apply(batch: OpenBatch, api: EmbeddingBatchApi, status: EmbeddingBatchStatus): Promise<void> {
    // Every item of the batch (for each request's input count, so the results can be checked whole), with
    // the queue columns of those still held under its lease (the others were applied or cancelled).
    const all = returnedRows<any>(
      await this.dataSource.query(
        `SELECT b.item_id::text AS id, b.entity_type, b.entity_id, b.version, b.units,
                q.id IS NOT NULL AS held, q.owner, q.force, q.priority, q.attempts, q.max_retries
           FROM ai_embedding_batch_items b
           LEFT JOIN ai_indexing_queue q ON q.id = b.item_id AND q.lease_token = $2 AND q.status = 'ACTIVE'
          WHERE b.batch_id = $1
          ORDER BY b.item_id`,
        [batch.id, batch.leaseToken],
      ),
    );
    const rows = all.filter((r) => r.held);
    const inputs = new Map<string, number>();
    const lineTokens = new Map<number, number>();
    for (const { units } of all as Array<{ units: StoredUnit[] }>) {
      for (const u of units) {
        if (u.a !== 'embed') continue;
        inputs.set(customId(batch.id, u.r!), Math.max(inputs.get(customId(batch.id, u.r!)) ?? 0, u.i! + 1));
        lineTokens.set(u.r!, (lineTokens.get(u.r!) ?? 0) + (u.t ?? 0));
      }
    }
    const results = await api.results(status, inputs);
    const types = [...new Set(rows.map((r) => r.entity_type as string))];
    const maintained = await this.generations.maintained(types);
    const plan: PlannedItem[] = rows.map((r) => {
      const item = toClaimed(r);
      const targets = maintained.get(item.entityType) ?? [];
      const units = (r.units as StoredUnit[])
        .map((u) => this.unitFrom(u, targets.find((g) => g.id === u.g), batch.id, results, inputs, lineTokens))
        .filter((u): u is PlannedUnit => u !== undefined);
      const planned: PlannedItem = { item, version: r.version, units, action: 'unchanged' };
      settle(planned);
      return planned;
    });
    // A cancelled owner's items that never ran are dropped, not re-queued for a job that ended.
    const dropped = batch.cancelRequested ? plan.filter((p) => p.action === 'defer' && p.units.some((u) => u.deferral && !u.deferral.consumesAttempt)) : [];
    const applying = plan.filter((p) => !dropped.includes(p));
    const finalStatus = status.state === 'completed' ? 'DONE' : status.state === 'expired' ? 'EXPIRED' : status.state === 'cancelled' ? 'CANCELLED' : 'FAILED';
    const finish = async (manager: EntityManager) => {
      if (dropped.length > 0) {
        await manager.query(`DELETE FROM ai_indexing_queue WHERE id = ANY($1::bigint[]) AND lease_token = $2 AND status = 'ACTIVE'`, [
          dropped.map((p) => p.item.id),
          batch.leaseToken,
        ]);
      }
      await manager.query(
        `UPDATE ai_embedding_batches SET status = $2, remote_status = $3, last_error = $4, finished_at = now(), applied_items = applied_items + $5
          WHERE id = $1 AND status = 'IN_FLIGHT'`,
        [batch.id, finalStatus, status.providerStatus, status.error ?? null, applying.length],
      );
    };
    const processor = this.workers.batchProcessor;
    const chunk = this.options.worker.commitChunkSize;
    if (applying.length === 0) {
      await this.dataSource.transaction(finish);
    }
    for (let start = 0; start < applying.length; start += chunk) {
      await this.gate.backfillTurn();
      const last = start + chunk >= applying.length;
      await processor.complete(batch.leaseToken, applying.slice(start, start + chunk), {
        chargeLost: false,
        pricing: 'batch',
        inTransaction: last ? finish : undefined,
      });
    }
    const embedded = plan.filter((p) => p.action === 'embed').length;
    this.logger.log(`Applied batch ${batch.id} (${status.providerStatus}): ${embedded} of ${rows.length} held item(s) embedded.`);
    this.wakeup.notify();
  }

  /** A stored unit with its result; undefined when its generation is no longer maintained. */
  private unitFrom(
    u: StoredUnit,
    generation: GenerationTarget | undefined,
    batchId: string,
    results: Map<string, EmbeddingBatchResult>,
    inputs: Map<string, number>,
    lineTokens: Map<number, number>,
  ): PlannedUnit | undefined {
    if (!generation) return undefined;
    const snapshot = { metadata: u.m } as unknown as EntitySnapshot;
    if (u.a !== 'embed') return { generation, action: u.a, hash: u.h, snapshot };
    const id = customId(batchId, u.r!);
    const result = results.get(id)!;
    const share = 1 / inputs.get(id)!;
    if ('vectors' in result) {
      // The line's billed tokens are shared by token count, as on the synchronous path.
      const total = lineTokens.get(u.r!) ?? 0;
      const tokens = result.tokens !== undefined && total > 0 ? (result.tokens * (u.t ?? 0)) / total : (u.t ?? 0);
      return {
        generation,
        action: 'embed',
        hash: u.h,
        snapshot,
        vector: encodeVector(result.vectors[u.i!]),
        usage: { requests: share, failedRequests: 0, tokens, estimatedTokens: result.tokens === undefined ? tokens : 0 },
      };
    }
    return {
      generation,
      action: 'defer',
      hash: u.h,
      deferral: { retry: result.error, reason: 'failed', consumesAttempt: !result.notRun, retryAfterMs: 0, cause: new Error(result.error) },
      usage: result.notRun ? undefined : { requests: share, failedRequests: share, tokens: 0, estimatedTokens: 0 },
    };
  }

  // ---------------------------------------------------------------- submit

  private async submitReady(): Promise<boolean> {
    const { maxInFlight, maxInputsPerBatch, gatherMs } = this.options.batch;
    const [{ open }] = await this.dataSource.query(`SELECT count(*)::int AS open FROM ai_embedding_batches WHERE status IN ('SUBMITTING', 'IN_FLIGHT')`);
    if (open >= maxInFlight) return false;
    const [ready] = await this.dataSource.query(
      `SELECT count(*)::int AS n, coalesce(extract(epoch FROM now() - min(created_at)) * 1000, 0) AS oldest_ms
         FROM (SELECT created_at FROM ai_indexing_queue
                WHERE status = 'PENDING' AND priority = $1 AND run_after <= now() LIMIT $2) ready`,
      [IndexingPriority.BATCH, maxInputsPerBatch],
    );
    if (ready.n === 0 || (ready.n < maxInputsPerBatch && Number(ready.oldest_ms) < gatherMs)) return false;
    const token = randomUUID();
    const claims = this.workers.claimsRepository;
    const { leaseMs } = this.options.worker;
    const items = await claims.claim(maxInputsPerBatch, token, this.workers.workerId, leaseMs, IndexingPriority.BATCH, IndexingPriority.BATCH);
    if (items.length === 0) return false;
    const heartbeat = setInterval(() => {
      claims.heartbeat(token, leaseMs).catch((e) => this.logger.warn(`Heartbeat for lease ${token} failed: ${(e as Error).message}`));
    }, Math.max(250, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    try {
      await this.submitClaimed(token, items);
    } catch (error) {
      // Nothing was sent: the items go back (without an attempt at shutdown).
      const aborted = this.abort.signal.aborted;
      await this.dataSource.transaction(async (manager) => {
        await claims.requeue(manager, { ids: items.map((i) => i.id), token }, {
          consumeAttempt: !aborted,
          delayMs: aborted ? 0 : undefined,
          backoff: { baseMs: this.options.queue.backoffBaseMs, maxMs: this.options.queue.backoffMaxMs },
          error: (error as Error).message,
        });
      });
      if (!aborted) this.logger.warn(`Preparing a batch of ${items.length} item(s) failed; they were re-queued: ${(error as Error).message}`);
    } finally {
      clearInterval(heartbeat);
    }
    return true;
  }

  private async submitClaimed(token: string, items: ClaimedItem[]): Promise<void> {
    const processor = this.workers.batchProcessor;
    await this.gate.backfillTurn();
    const plan = await processor.plan(items);
    // Completed at once: items that need no embedding, inputs refused, owners over budget.
    const now: PlannedItem[] = [];
    const toSync: PlannedItem[] = [];
    const candidates: Candidate[] = [];
    for (const p of plan) {
      if (p.action !== 'embed') {
        now.push(p);
        continue;
      }
      const embedUnits = p.units.filter((u) => u.action === 'embed');
      const spaces = new Set(embedUnits.map((u) => spaceKey(u.generation)));
      const service = this.providers.forSpace(embedUnits[0].generation)!;
      if (spaces.size > 1 || !service.provider.batches) {
        // One provider batch is one model: an entity that needs two at once (an in-place job while a new
        // model's generation builds) is embedded on the synchronous path.
        toSync.push(p);
        continue;
      }
      const prepared = service.prepareInputs(embedUnits.map((u) => u.snapshot!.text));
      const refused = prepared.find((x): x is { error: string } => 'error' in x);
      if (refused) {
        embedUnits.forEach((u) => Object.assign(u, { action: 'fail', error: refused.error }));
        settle(p);
        now.push(p);
        continue;
      }
      candidates.push({ p, service, inputs: prepared as Array<{ text: string; tokens: number }> });
    }
    // Budgets: each owner's tokens at the batch price, asked before anything is sent; a refused owner's items wait.
    const refusals = await this.admit(candidates);
    const admitted = candidates.filter(({ p }) => {
      const reason = p.item.owner === null ? undefined : refusals.get(p.item.owner);
      if (reason === undefined) return true;
      Object.assign(p, { action: 'defer', deferral: { retry: reason, reason: 'budget', consumesAttempt: false, retryAfterMs: BUDGET_DELAY_MS, cause: new Error(reason) } });
      now.push(p);
      return false;
    });
    const drafts = this.draftsOf(admitted);
    if (toSync.length > 0) await this.moveToSyncLane(token, toSync);
    const chunk = this.options.worker.commitChunkSize;
    for (let start = 0; start < now.length; start += chunk) {
      await this.gate.backfillTurn();
      await processor.complete(token, now.slice(start, start + chunk));
    }
    await this.hooks.emitBudgetExceeded(refusals);
    for (const draft of drafts) await this.send(token, draft);
  }

  /**
   * Packs the items into batches per embedding space: inputs into request lines within the synchronous
   * request limits, lines into batches within the batch limits; each item in exactly one batch.
   */
  private draftsOf(candidates: Candidate[]): Draft[] {
    const drafts: Draft[] = [];
    const open = new Map<string, Draft>();
    for (const { p, service, inputs } of candidates) {
      const key = spaceKey(p.units.find((u) => u.action === 'embed')!.generation);
      const bytes = inputs.reduce((sum, x) => sum + Buffer.byteLength(x.text) + 8, 0);
      let draft = open.get(key);
      if (!draft || !this.fits(draft, inputs.length, bytes)) {
        draft = { service, api: service.provider.batches!, requests: [], items: [], inputs: 0, bytes: 0, tokens: 0 };
        open.set(key, draft);
        drafts.push(draft);
      }
      const stored: StoredUnit[] = [];
      let k = 0;
      for (const u of p.units) {
        if (u.action !== 'embed') {
          stored.push({ g: u.generation.id, a: u.action as 'unchanged' | 'metadata', h: u.hash, m: u.snapshot?.metadata });
          continue;
        }
        const input = inputs[k++];
        const request = this.requestFor(draft, service, input.tokens);
        request.texts.push(input.text);
        request.tokens += input.tokens;
        stored.push({ g: u.generation.id, a: 'embed', h: u.hash, m: u.snapshot!.metadata, r: draft.requests.length - 1, i: request.texts.length - 1, t: input.tokens });
        draft.inputs++;
        draft.tokens += input.tokens;
      }
      draft.bytes += bytes;
      draft.items.push({ p, units: stored });
    }
    return drafts;
  }

  /** Whether an item of `inputs` inputs and `bytes` bytes of text still fits into the draft's batch. */
  private fits(draft: Draft, inputs: number, bytes: number): boolean {
    const { maxInputsPerBatch, maxRequestsPerFile, maxFileBytes } = this.options.batch;
    const lineBytes = (draft.requests.length + 1) * LINE_OVERHEAD_BYTES;
    return (
      draft.inputs + inputs <= maxInputsPerBatch &&
      draft.requests.length < maxRequestsPerFile &&
      draft.bytes + bytes + lineBytes <= maxFileBytes * FILE_SIZE_MARGIN
    );
  }

  /** The draft's open request if one more input of `tokens` fits it (the synchronous request limits), else a new one. */
  private requestFor(draft: Draft, service: EmbeddingService, tokens: number): { texts: string[]; tokens: number } {
    const provider = service.provider;
    const open = draft.requests[draft.requests.length - 1];
    if (open && open.texts.length < provider.maxInputsPerRequest && open.tokens + tokens <= provider.maxTokensPerRequest) return open;
    const request = { texts: [] as string[], tokens: 0 };
    draft.requests.push(request);
    return request;
  }

  private async admit(candidates: Candidate[]): Promise<Map<string, string>> {
    if (!this.hooks.checksUsage) return new Map();
    const perOwner = new Map<string, { model: string; provider: string; tokens: number }>();
    for (const { p, service, inputs } of candidates) {
      if (p.item.owner === null) continue;
      const entry = perOwner.get(p.item.owner) ?? { model: service.provider.model, provider: service.provider.name, tokens: 0 };
      entry.tokens += inputs.reduce((sum, x) => sum + x.tokens, 0);
      perOwner.set(p.item.owner, entry);
    }
    return this.hooks.admitUsage([...perOwner].map(([owner, e]) => ({ owner, provider: e.provider, model: e.model, tokens: e.tokens, pricing: 'batch' as const })));
  }

  /** Items that need two embedding models go back to the queue at backfill priority, for the synchronous workers. */
  private async moveToSyncLane(token: string, items: PlannedItem[]): Promise<void> {
    const claims = this.workers.claimsRepository;
    await this.dataSource.transaction(async (manager) => {
      const owned = await claims.takeOwned(manager, items.map((p) => p.item.id), token);
      await claims.reinsert(
        manager,
        items
          .filter((p) => owned.has(p.item.id))
          .map((p) => ({ item: { ...p.item, priority: IndexingPriority.LOW }, error: 'Needs two embedding models at once; moved to the synchronous path.' })),
        'PENDING',
      );
    });
  }

  /**
   * Records the draft as a batch (row, items, and the items' claims extended to the batch's lease) in one
   * transaction, then uploads and creates the provider batch and marks the row in flight. A crash between
   * the two leaves a row in SUBMITTING, which the check recovers.
   */
  private async send(token: string, draft: Draft): Promise<void> {
    const provider = draft.service.provider;
    const ids = draft.items.map(({ p }) => p.item.id);
    const owners = [...new Set(draft.items.map(({ p }) => p.item.owner).filter((o): o is string => o !== null))];
    const batchId = await this.dataSource.transaction(async (manager) => {
      const [row] = returnedRows<{ id: string }>(
        await manager.query(
          `INSERT INTO ai_embedding_batches (provider, model, dimensions, lease_token, owners, requests, inputs, estimated_tokens, next_check_at)
           VALUES ($1, $2, $3, $4, $5::text[], $6, $7, $8, now() + make_interval(secs => $9::float8 / 1000))
           RETURNING id::text AS id`,
          [provider.name, provider.model, provider.dimensions, token, owners, draft.requests.length, draft.inputs, draft.tokens, this.options.batch.submitTimeoutMs],
        ),
      );
      await manager.query(
        `INSERT INTO ai_embedding_batch_items (batch_id, item_id, entity_type, entity_id, version, units)
         SELECT $1, t.item_id, t.entity_type, t.entity_id, t.version, t.units::jsonb
           FROM unnest($2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[]) AS t(item_id, entity_type, entity_id, version, units)`,
        [
          row.id,
          ids,
          draft.items.map(({ p }) => p.item.entityType),
          draft.items.map(({ p }) => p.item.entityId),
          draft.items.map(({ p }) => p.version),
          draft.items.map(({ units }) => JSON.stringify(units)),
        ],
      );
      const extended = returnedRows(
        await manager.query(
          `UPDATE ai_indexing_queue SET lease_expires_at = now() + make_interval(secs => $3::float8 / 1000), updated_at = now()
            WHERE id = ANY($1::bigint[]) AND lease_token = $2 AND status = 'ACTIVE' RETURNING id`,
          [ids, token, BATCH_LEASE_MS],
        ),
      );
      if (extended.length !== ids.length) {
        throw new Error(`The claim on ${ids.length - extended.length} of the batch's items was lost before it was recorded; the batch was not sent.`);
      }
      return row.id;
    });
    let remoteId: string;
    try {
      remoteId = await draft.api.submit(
        draft.requests.map((r, i): EmbeddingBatchRequest => ({ customId: customId(batchId, i), texts: r.texts })),
        batchMetadata(batchId, token),
        this.abort.signal,
      );
    } catch (error) {
      if (this.abort.signal.aborted) {
        // Shutdown: the row stays SUBMITTING; the check adopts the batch if the provider got it, else re-queues.
        return;
      }
      const retryable = error instanceof EmbeddingProviderError ? error.retryable : true;
      const message = `Submitting batch ${batchId} to ${provider.name} failed: ${(error as Error).message}`;
      await this.release(batchId, token, message, retryable ? { consumeAttempt: false, delayMs: SUBMIT_RETRY_MS } : { consumeAttempt: true }, 'FAILED');
      this.logger.warn(message);
      return;
    }
    const marked = returnedRows(
      await this.dataSource.query(
        `UPDATE ai_embedding_batches SET status = 'IN_FLIGHT', remote_id = $2, submitted_at = now(), remote_status = 'validating',
                next_check_at = now() + make_interval(secs => $3::float8 / 1000)
          WHERE id = $1 AND status = 'SUBMITTING' RETURNING id`,
        [batchId, remoteId, this.options.batch.pollIntervalMs],
      ),
    );
    if (marked.length === 0) {
      // Another instance gave this submission up meanwhile and re-queued its items: the provider's copy must not run.
      await draft.api.cancel(remoteId).catch(() => undefined);
      this.logger.warn(`Batch ${batchId} was given up while it was being submitted; provider batch ${remoteId} was cancelled.`);
      return;
    }
    this.logger.log(`Submitted batch ${batchId} as ${remoteId}: ${draft.inputs} input(s) in ${draft.requests.length} request(s), about ${Math.round(draft.tokens)} tokens.`);
  }

  private apiFor(batch: { model: string; dimensions: number; id: string }): EmbeddingBatchApi {
    const api = this.providers.forSpace(batch)?.provider.batches;
    if (!api) {
      throw new Error(
        `Batch ${batch.id} was sent with model ${batch.model} (${batch.dimensions} dimensions), which no provider with a Batch API in this instance embeds; ` +
          'configure it in "embedding" or "retainedEmbeddings".',
      );
    }
    return api;
  }
}

/** The custom id of request `index` of batch `batchId`. */
function customId(batchId: string, index: number): string {
  return `${batchId}-${index}`;
}

/** What a batch is sent with, so it can be found again: the row id and its lease token (unique across databases). */
function batchMetadata(batchId: string, token: string): Record<string, string> {
  return { ai_batch: batchId, ai_batch_token: token };
}

function spaceKey(space: { model: string; dimensions: number }): string {
  return `${space.model}\u0000${space.dimensions}`;
}
