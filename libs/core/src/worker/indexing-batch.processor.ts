import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import type { EmbedDeferral, EmbeddingService } from '../embedding/embedding.service';
import type { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import type { EntitySnapshotCache } from '../entity/entity-snapshot.cache';
import { loadEntitySnapshots, lockEntityVersions, type EntitySnapshot } from '../entity/entity-snapshot.loader';
import { sameMetadata } from '../entity/entity-text.builder';
import { describeEntityIdKind, normalizeEntityId } from '../entity/entity-id';
import type { IndexingHooks, IndexingOutcome } from '../queue/indexing-hooks';
import { IndexingPriority } from '../queue/indexing-request.interface';
import { encodeVector } from '../vector-store/vector-codec';
import type { VectorRecord, VectorStore } from '../vector-store/vector-store.interface';
import type { ClaimedItem, DeadItem, IndexingClaimsRepository } from './indexing-claims.repository';


/**
 * `metadata`: same text, so no embedding, but the metadata fields changed and the row must be refreshed.
 * `defer`: the provider could not embed it this time (transient trouble); it goes back to the queue.
 */
type Action = 'embed' | 'unchanged' | 'metadata' | 'remove' | 'fail' | 'defer';

interface PlannedItem {
  item: ClaimedItem;
  action: Action;
  /** Content hash the decision was based on; null when the entity row did not exist. */
  hash: string | null;
  /** Row version the decision was based on; null when the entity row did not exist. */
  version: string | null;
  snapshot?: EntitySnapshot;
  /** The embedding in pgvector's binary form, encoded before the completion transaction opens. */
  vector?: Buffer;
  error?: string;
  deferral?: EmbedDeferral;
}

/**
 * Points where the worker coordinates a batch with others (see LiveWorkGate): `beforeDb` before each
 * database step, `beforeProvider`/`afterProvider` around the embedding requests.
 */
export interface BatchSteps {
  beforeDb?(): Promise<void>;
  beforeProvider?(): void;
  afterProvider?(): void;
}

/** A batch claimed under one lease token. */
export interface ClaimedBatch {
  token: string;
  items: ClaimedItem[];
}

/**
 * Processes one claimed batch: reads the entities' current rows, decides per item (embed, unchanged,
 * remove, fail), embeds what changed in as few provider calls as allowed, then — in transactions of
 * `worker.commitChunkSize` items, each fenced by the lease token — writes vectors, completes the items and
 * reports outcomes.
 *
 * Before writing, the rows' versions are read again `FOR SHARE`: if an entity changed since it was read,
 * its item is put back instead of writing a stale vector over a newer one.
 * @internal
 */
export class IndexingBatchProcessor {
  private readonly logger = new Logger('IndexingWorker');

  constructor(
    private readonly dataSource: DataSource,
    private readonly options: ResolvedAiCoreOptions,
    private readonly registry: AiEntityRegistry,
    private readonly embedding: EmbeddingService,
    private readonly vectorStore: VectorStore,
    private readonly claims: IndexingClaimsRepository,
    private readonly hooks: IndexingHooks,
    private readonly snapshotCache: EntitySnapshotCache,
  ) {}

  /** Processes a batch to completion, retry or dead letter. Never throws for item-level problems. */
  async process(batch: ClaimedBatch, signal: AbortSignal, steps: BatchSteps = {}): Promise<void> {
    try {
      await steps.beforeDb?.();
      const plan = await this.plan(batch.items);
      const toEmbed = plan.filter((p) => p.action === 'embed');
      const epoch = this.embedding.backOffEpoch;
      if (toEmbed.length > 0) {
        // Live writes (HIGH) go ahead of backfill requests at the provider's limiter.
        const lane = batch.items.some((i) => i.priority >= IndexingPriority.HIGH) ? 'interactive' : 'bulk';
        steps.beforeProvider?.();
        let results;
        try {
          results = await this.embedding.embedTexts(
            toEmbed.map((p) => p.snapshot!.text),
            signal,
            { lane },
          );
        } finally {
          steps.afterProvider?.();
        }
        results.forEach((result, i) => {
          if ('vector' in result) toEmbed[i].vector = encodeVector(result.vector);
          else if ('retry' in result) Object.assign(toEmbed[i], { action: 'defer', deferral: result });
          else Object.assign(toEmbed[i], { action: 'fail', error: result.error });
        });
      }
      // A large batch commits in chunks, each its own transaction fenced by the lease: a backfill batch then
      // holds the database (the embedded one's only session; a server's HNSW graph) for one chunk at a time,
      // and live steps waiting at the gate go between two chunks. Each item is written by exactly one chunk,
      // and a chunk that does not commit leaves its items claimed for the usual retry or lease expiry.
      const chunk = this.options.worker.commitChunkSize;
      for (let start = 0; start < plan.length; start += chunk) {
        await steps.beforeDb?.();
        await this.complete(batch.token, plan.slice(start, start + chunk));
      }
      await this.reportDeferrals(batch, plan, epoch);
    } catch (error) {
      await this.handleFailure(batch, error as Error, signal);
    }
  }

  private async plan(items: ClaimedItem[]): Promise<PlannedItem[]> {
    const space = this.space();
    const plan: PlannedItem[] = [];
    for (const [entityType, group] of groupBy(items, (i) => i.entityType)) {
      const descriptor = this.registry.find(entityType);
      if (!descriptor) {
        const error = `Entity type "${entityType}" is not configured in this application; add it to ai-entity-config.yml and an @AICapable entity, then retry the dead letters.`;
        group.forEach((item) => plan.push({ item, action: 'fail', hash: null, version: null, error }));
        continue;
      }
      // Items written to the queue by other means than enqueue() may carry malformed ids; they fail alone
      // instead of making the whole batch's query fail.
      const valid = group.filter((item) => normalizeEntityId(descriptor, item.entityId) === item.entityId);
      // A backfill's producer hands over the rows it just read (see EntitySnapshotCache). Only snapshots
      // that call for an embedding are used as they are: "unchanged" or "metadata only" rests on the
      // stored vector, which may have changed since, so those rows are read again. The version check in
      // complete() keeps a snapshot of a row that changed meanwhile from being written.
      const snapshots = new Map<string, EntitySnapshot>();
      const toRead: string[] = [];
      for (const item of valid) {
        const cached = this.snapshotCache.take(entityType, item.entityId);
        if (cached && cached.text.length > 0 && (item.force || cached.storedHash !== cached.hash)) snapshots.set(item.entityId, cached);
        else toRead.push(item.entityId);
      }
      for (const [id, snapshot] of await loadEntitySnapshots(this.dataSource.manager, descriptor, toRead, space)) snapshots.set(id, snapshot);
      const validItems = new Set(valid);
      for (const item of group) {
        if (!validItems.has(item)) {
          plan.push({
            item,
            action: 'fail',
            hash: null,
            version: null,
            error: `Entity id ${JSON.stringify(item.entityId)} of entity type "${entityType}" is not ${describeEntityIdKind(descriptor.idKind)} in canonical form; enqueue it through IndexingQueueService.enqueue(), which validates and normalises ids.`,
          });
          continue;
        }
        const snapshot = snapshots.get(item.entityId);
        if (!snapshot) {
          // The row is gone: its vector (if any) must go too. The live path usually removed it already.
          plan.push({ item, action: 'remove', hash: null, version: null });
        } else if (snapshot.text.length === 0) {
          plan.push({
            item,
            action: 'fail',
            hash: snapshot.hash,
            version: snapshot.version,
            error: `Entity ${entityType}#${item.entityId} has no text in its embeddable fields (${descriptor.config.embeddableFields.map((f) => f.name).join(', ')}); fill one of them, then retry.`,
          });
        } else if (!item.force && snapshot.storedHash === snapshot.hash) {
          const action = sameMetadata(snapshot.storedMetadata, snapshot.metadata) ? 'unchanged' : 'metadata';
          plan.push({ item, action, hash: snapshot.hash, version: snapshot.version, snapshot });
        } else {
          plan.push({ item, action: 'embed', hash: snapshot.hash, version: snapshot.version, snapshot });
        }
      }
    }
    return plan;
  }

  private async complete(token: string, plan: PlannedItem[]): Promise<void> {
    const space = this.space();
    const records = (items: PlannedItem[]): VectorRecord[] =>
      items.map((p) => ({
        entityType: p.item.entityType,
        entityId: p.item.entityId,
        vector: p.vector!,
        contentHash: p.hash!,
        model: space.model,
        dimensions: space.dimensions,
        metadata: p.snapshot!.metadata,
      }));
    // The vector write is built before the transaction opens: while it is open, it holds the row locks
    // (and, on the embedded database, the one session every connection shares). It is rebuilt inside only
    // when some items turn out lost or stale.
    const embedded = plan.filter((p) => p.action === 'embed');
    const prepared = this.vectorStore.prepareUpsert(records(embedded));
    let lost = 0;
    await this.dataSource.transaction(async (manager) => {
      const owned = await this.claims.takeOwned(manager, plan.map((p) => p.item.id), token);
      lost = plan.length - owned.size;
      if (owned.size === 0) return;
      const mine = plan.filter((p) => owned.has(p.item.id));
      const stale = await this.findStale(manager, mine);
      const upserts = mine.filter((p) => p.action === 'embed' && !stale.has(p));
      const removals = mine.filter((p) => p.action === 'remove' && !stale.has(p));
      const refreshes = mine.filter((p) => p.action === 'metadata' && !stale.has(p));
      if (upserts.length === embedded.length) await prepared.run(manager);
      else await this.vectorStore.upsert(records(upserts), manager);
      for (const [entityType, group] of groupBy(refreshes, (p) => p.item.entityType)) {
        await this.vectorStore.updateMetadata(entityType, group.map((p) => ({ entityId: p.item.entityId, metadata: p.snapshot!.metadata })), manager);
      }
      for (const [entityType, group] of groupBy(removals, (p) => p.item.entityType)) {
        await this.vectorStore.delete(entityType, group.map((p) => p.item.entityId), manager);
      }
      const done = mine.filter((p) => p.action !== 'fail' && p.action !== 'defer' && !stale.has(p));
      // A deferral that may be the input's fault uses an attempt; the last one makes the item dead.
      const deferred = mine.filter((p) => p.action === 'defer');
      const exhausted = deferred.filter((p) => p.deferral!.consumesAttempt && p.item.attempts >= p.item.maxRetries);
      exhausted.forEach((p) => Object.assign(p, { action: 'fail', error: p.deferral!.retry }));
      const failed = mine.filter((p) => p.action === 'fail');
      // takeOwned already removed every owned item; put back what did not complete.
      await this.claims.reinsert(manager, failed.map((p) => ({ item: p.item, error: p.error! })), 'DEAD');
      await this.claims.reinsert(
        manager,
        [
          ...[...stale].map((p) => ({ item: p.item, error: 'The entity changed while it was being embedded; re-queued.' })),
          ...deferred
            .filter((p) => p.action === 'defer')
            .map((p) => ({ item: p.item, error: p.deferral!.retry, delayMs: this.deferralDelay(p), consumeAttempt: p.deferral!.consumesAttempt })),
        ],
        'PENDING',
      );
      const outcomes: IndexingOutcome[] = [
        ...done.map((p) => outcome(p.item, p.action === 'embed' ? 'indexed' : p.action === 'remove' ? 'removed' : 'unchanged')),
        ...failed.map((p) => ({ ...outcome(p.item, 'dead'), error: p.error })),
      ];
      await this.hooks.emitOutcomes(manager, outcomes);
    });
    if (lost > 0) {
      this.logger.warn(`Lease ${token} lost for ${lost} item(s) (taken over after expiry); their results were discarded.`);
    }
  }

  /**
   * Items whose entity row changed (or appeared/disappeared) since the plan was made. The rows stay locked
   * until the transaction ends, so what is written matches the committed row.
   */
  private async findStale(manager: EntityManager, items: PlannedItem[]): Promise<Set<PlannedItem>> {
    const stale = new Set<PlannedItem>();
    const writes = items.filter((p) => p.action === 'embed' || p.action === 'remove' || p.action === 'metadata');
    for (const [entityType, group] of groupBy(writes, (p) => p.item.entityType)) {
      const descriptor = this.registry.find(entityType)!;
      const current = await lockEntityVersions(manager, descriptor, group.map((p) => p.item.entityId));
      for (const p of group) {
        if ((current.get(p.item.entityId) ?? null) !== p.version) stale.add(p);
      }
    }
    return stale;
  }

  /** A deferred item's delay: the provider's hint, or the queue's backoff when the attempt counts. */
  private deferralDelay(p: PlannedItem): number {
    const deferral = p.deferral!;
    if (!deferral.consumesAttempt) return deferral.retryAfterMs;
    const { backoffBaseMs, backoffMaxMs } = this.options.queue;
    return Math.min(backoffMaxMs, backoffBaseMs * 2 ** Math.max(0, p.item.attempts - 1)) * Math.random();
  }

  /**
   * Tells the hooks' listeners (the migration module pauses jobs) about a quota or an outage that deferred
   * items — unless an operator cleared the provider's back-off (resumed the jobs) since this batch's request
   * started: that report is stale, and would pause again what was just resumed.
   */
  private async reportDeferrals(batch: ClaimedBatch, plan: PlannedItem[], epoch: number): Promise<void> {
    const stale = this.embedding.backOffEpoch !== epoch;
    const owners = (reason: EmbedDeferral['reason']) => [
      ...new Set(plan.filter((p) => p.action === 'defer' && p.deferral!.reason === reason).map((p) => p.item.owner)),
    ];
    const quota = plan.find((p) => p.action === 'defer' && p.deferral!.reason === 'quota');
    if (quota && !stale) {
      this.logger.error(quota.deferral!.retry);
      await this.hooks.emitQuotaExceeded(owners('quota'), quota.deferral!.cause);
    }
    const outage = plan.find((p) => p.action === 'defer' && p.deferral!.reason === 'unavailable');
    if (outage && !stale) {
      this.logger.error(outage.deferral!.retry);
      await this.hooks.emitProviderUnavailable(owners('unavailable'), outage.deferral!.cause);
    }
    const retried = plan.filter((p) => p.action === 'defer').length;
    if (retried > 0 && !quota && !outage) {
      this.logger.warn(`Lease ${batch.token}: ${retried} item(s) re-queued after provider trouble: ${plan.find((p) => p.action === 'defer')!.deferral!.retry}`);
    }
  }

  /**
   * A batch that failed outside the provider calls (a database error; provider trouble comes back from
   * embedTexts as deferrals) is requeued using an attempt; at shutdown it is released without one.
   */
  private async handleFailure(batch: ClaimedBatch, error: Error, signal: AbortSignal): Promise<void> {
    const ids = batch.items.map((i) => i.id);
    const where = { ids, token: batch.token };
    let dead: DeadItem[] = [];
    await this.dataSource.transaction(async (manager) => {
      if (signal.aborted) {
        await this.claims.requeue(manager, where, { consumeAttempt: false, delayMs: 0, error: 'Released at shutdown.' });
        return;
      }
      dead = await this.claims.requeue(manager, where, {
        consumeAttempt: true,
        backoff: { baseMs: this.options.queue.backoffBaseMs, maxMs: this.options.queue.backoffMaxMs },
        error: error.message,
      });
      await this.hooks.emitOutcomes(
        manager,
        dead.map((d) => ({ itemId: d.id, entityType: d.entityType, entityId: d.entityId, owner: d.owner, result: 'dead', error: d.lastError ?? undefined })),
      );
    });
    if (!signal.aborted) {
      this.logger.warn(`Batch of ${ids.length} item(s) failed and was rescheduled (${dead.length} dead-lettered): ${error.message}`);
    }
  }

  private space() {
    return { model: this.embedding.provider.model, dimensions: this.embedding.provider.dimensions };
  }
}

function outcome(item: ClaimedItem, result: IndexingOutcome['result']): IndexingOutcome {
  return { itemId: item.id, entityType: item.entityType, entityId: item.entityId, owner: item.owner, result };
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
