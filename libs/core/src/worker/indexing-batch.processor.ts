import { Logger } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import type { EmbeddingProviderRegistry } from '../embedding/embedding-provider.registry';
import { addUsage, emptyUsage, hasUsage, type EmbeddingUsage } from '../embedding/embedding-usage';
import type { EmbedDeferral, EmbeddingService } from '../embedding/embedding.service';
import type { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import type { EntitySnapshotCache } from '../entity/entity-snapshot.cache';
import { loadEntityRows, lockEntityVersions, propertiesFor, snapshotFor, type EntitySnapshot } from '../entity/entity-snapshot.loader';
import type { GenerationTarget, IndexGenerationCatalog } from '../generation/index-generation.catalog';
import { sameMetadata } from '../entity/entity-text.builder';
import { describeEntityIdKind, normalizeEntityId } from '../entity/entity-id';
import type { IndexingHooks, IndexingOutcome, OwnerUsage } from '../queue/indexing-hooks';
import type { ProviderUsageService } from '../usage/provider-usage.service';
import type { UsagePricing } from '../usage/provider-usage.interface';
import { IndexingPriority } from '../queue/indexing-request.interface';
import { encodeVector } from '../vector-store/vector-codec';
import type { VectorRecord, VectorStore } from '../vector-store/vector-store.interface';
import type { ClaimedItem, DeadItem, IndexingClaimsRepository } from './indexing-claims.repository';


/**
 * `metadata`: same text, so no embedding, but the metadata fields changed and the row must be refreshed.
 * `defer`: it could not be embedded this time (transient provider trouble, or a generation this instance
 * cannot embed); the item goes back to the queue.
 */
export type Action = 'embed' | 'unchanged' | 'metadata' | 'remove' | 'fail' | 'defer';

/** The work of one item in one index generation. */
export interface PlannedUnit {
  generation: GenerationTarget;
  action: Action;
  /** Content hash the decision was based on; null when the entity row did not exist. */
  hash: string | null;
  snapshot?: EntitySnapshot;
  /** The embedding in pgvector's binary form, encoded before the completion transaction opens. */
  vector?: Buffer;
  error?: string;
  deferral?: EmbedDeferral;
  /** What the provider requests for this unit cost (its share), once it was sent. */
  usage?: EmbeddingUsage;
}

export interface PlannedItem {
  item: ClaimedItem;
  /** Row version the decision was based on; null when the entity row did not exist. */
  version: string | null;
  /** One per generation the item targets (every maintained one, or its owner's). */
  units: PlannedUnit[];
  /** The item's own verdict, from its units (see {@link settle}). */
  action: Action;
  error?: string;
  deferral?: EmbedDeferral;
}

/** How long an item waits before another try when this instance cannot embed one of its generations. */
const FOREIGN_GENERATION_DELAY_MS = 5_000;
/**
 * How long an item refused by its owner's budget waits: its job is being paused (which holds the item until
 * resume), so this only matters for owners that are not paused by a listener.
 */
const BUDGET_DELAY_MS = 60_000;

/**
 * Points where the worker coordinates a batch with others (see LiveWorkGate): `beforeDb` before each
 * database step, `beforeProvider`/`afterProvider` around the embedding requests.
 */
export interface BatchSteps {
  beforeDb?(): Promise<void>;
  beforeProvider?(): void;
  afterProvider?(): void;
}

/** How {@link IndexingBatchProcessor.complete} records a chunk. */
export interface CompleteOptions {
  /**
   * Record the chunk's usage even for items whose lease was lost (default true: the synchronous requests
   * were sent by this worker and billed either way). A provider batch applied again after a crash passes
   * false: the first application recorded the usage of the items it took.
   */
  chargeLost?: boolean;
  /** How the usage is priced (default `sync`). */
  pricing?: UsagePricing;
  /** Runs last in the chunk's transaction (a batch marks itself applied there). */
  inTransaction?: (manager: EntityManager) => Promise<void>;
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
    private readonly providers: EmbeddingProviderRegistry,
    private readonly generations: IndexGenerationCatalog,
    private readonly usage: ProviderUsageService,
  ) {}

  /**
   * Processes a batch to completion, retry or dead letter. Never throws for item-level problems. `signal`
   * aborts everything (requests in flight included; the batch is released); `stopping` is the graceful
   * stop: no new provider request, answers of those sent are still written (see
   * the `stopping` option of {@link EmbeddingService.embedTextsWithUsage}).
   */
  async process(batch: ClaimedBatch, signal: AbortSignal, steps: BatchSteps = {}, stopping?: AbortSignal): Promise<void> {
    // Items whose provider usage has not been recorded yet: a failure records it with the batch's retry.
    let uncounted: PlannedItem[] = [];
    // Items still claimed by this batch (not completed by a committed chunk): what a failure re-queues.
    let held: ClaimedItem[] = batch.items;
    try {
      await steps.beforeDb?.();
      const plan = await this.plan(batch.items);
      const epoch = this.embedding.backOffEpoch;
      // Live writes (HIGH) go ahead of backfill requests at the provider's limiter.
      const lane = batch.items.some((i) => i.priority >= IndexingPriority.HIGH) ? 'interactive' : 'bulk';
      const toEmbed = plan.flatMap((p) => p.units.filter((u) => u.action === 'embed').map((u) => ({ p, u })));
      const refusals = new Map<string, string>();
      uncounted = plan;
      // One request stream per embedding space (usually one; two while a new model's generation builds).
      for (const group of groupBy(toEmbed, ({ u }) => `${u.generation.model}\u0000${u.generation.dimensions}`).values()) {
        const units = group.map(({ u }) => u);
        const service = this.providers.forSpace(units[0].generation)!;
        steps.beforeProvider?.();
        let results;
        try {
          const admit = this.admission(group.map(({ p }) => p.item.owner), service, refusals, steps);
          results = await service.embedTextsWithUsage(units.map((u) => u.snapshot!.text), signal, { lane, admit, stopping });
        } finally {
          steps.afterProvider?.();
        }
        results.outcomes.forEach((result, i) => {
          units[i].usage = results.usage[i];
          if ('vector' in result) units[i].vector = encodeVector(result.vector);
          else if ('retry' in result) Object.assign(units[i], { action: 'defer', deferral: result });
          else Object.assign(units[i], { action: 'fail', error: result.error });
        });
      }
      plan.forEach(settle);
      // A large batch commits in chunks, each its own transaction fenced by the lease: a backfill batch then
      // holds the database (the embedded one's only session; a server's HNSW graph) for one chunk at a time,
      // and live steps waiting at the gate go between two chunks. Each item is written by exactly one chunk,
      // and a chunk that does not commit leaves its items claimed for the usual retry or lease expiry.
      const chunk = this.options.worker.commitChunkSize;
      for (let start = 0; start < plan.length; start += chunk) {
        await steps.beforeDb?.();
        await this.complete(batch.token, plan.slice(start, start + chunk));
        uncounted = plan.slice(start + chunk);
        held = uncounted.map((p) => p.item);
      }
      await this.reportDeferrals(batch, plan, epoch);
      await this.hooks.emitBudgetExceeded(refusals);
    } catch (error) {
      await this.handleFailure(batch, error as Error, signal, uncounted, held);
    }
  }

  /**
   * The budget question for one provider call, when some listener checks budgets and the call carries owned
   * items: each owner's tokens in the call are put to the checks; a refused owner's inputs are deferred
   * (no attempt used) and its reason is kept in `refusals` for the budget listeners.
   */
  private admission(
    owners: Array<string | null>,
    service: EmbeddingService,
    refusals: Map<string, string>,
    steps: BatchSteps,
  ): ((tokens: number[]) => Promise<Map<number, EmbedDeferral>>) | undefined {
    if (!this.hooks.checksUsage || owners.every((o) => o === null)) return undefined;
    return async (tokens) => {
      // The checks read the database: a backfill batch waits its turn behind live steps, as for its other statements.
      await steps.beforeDb?.();
      const perOwner = new Map<string, number>();
      owners.forEach((owner, i) => {
        if (owner !== null && tokens[i] > 0) perOwner.set(owner, (perOwner.get(owner) ?? 0) + tokens[i]);
      });
      const { name, model } = service.provider;
      const refused = await this.hooks.admitUsage([...perOwner].map(([owner, t]) => ({ owner, provider: name, model, tokens: t })));
      const deferred = new Map<number, EmbedDeferral>();
      owners.forEach((owner, i) => {
        const reason = owner === null ? undefined : refused.get(owner);
        if (reason === undefined) return;
        refusals.set(owner!, reason);
        deferred.set(i, { retry: reason, reason: 'budget', consumesAttempt: false, retryAfterMs: BUDGET_DELAY_MS, cause: new Error(reason) });
      });
      return deferred;
    };
  }

  /** What the units of these items cost, per owner and model (only units that were sent). */
  private usageOf(items: PlannedItem[], pricing: UsagePricing = 'sync'): OwnerUsage[] {
    const byKey = new Map<string, OwnerUsage>();
    for (const p of items) {
      for (const u of p.units) {
        if (!u.usage || !hasUsage(u.usage)) continue;
        const provider = this.providers.forSpace(u.generation)!.provider;
        const key = `${p.item.owner ?? ''}\u0000${provider.name}\u0000${provider.model}`;
        let entry = byKey.get(key);
        if (!entry) byKey.set(key, (entry = { owner: p.item.owner, provider: provider.name, model: provider.model, usage: emptyUsage(), pricing }));
        addUsage(entry.usage, u.usage);
      }
    }
    return [...byKey.values()];
  }

  /** Adds the usage to the daily totals (live items to `live`, owned ones to `backfill`) in `manager`'s transaction. */
  private async recordUsage(manager: EntityManager, usage: OwnerUsage[]): Promise<void> {
    const totals = (owned: boolean, pricing: UsagePricing) =>
      [
        ...groupBy(
          usage.filter((u) => (u.owner !== null) === owned && (u.pricing ?? 'sync') === pricing),
          (u) => `${u.provider}\u0000${u.model}`,
        ).values(),
      ].map((group) => ({
        provider: group[0].provider,
        model: group[0].model,
        ...group.reduce((sum, u) => addUsage(sum, u.usage), emptyUsage()),
      }));
    await this.usage.record('live', totals(false, 'sync'), manager);
    await this.usage.record('backfill', totals(true, 'sync'), manager);
    await this.usage.record('backfill', totals(true, 'batch'), manager, 'batch');
  }

  /**
   * @internal Reads the items' entities and decides per item and generation what to do (embed, unchanged,
   * metadata, remove, fail, defer). Embedding and writing are up to the caller.
   */
  async plan(items: ClaimedItem[]): Promise<PlannedItem[]> {
    const plan: PlannedItem[] = [];
    const byType = groupBy(items, (i) => i.entityType);
    const maintained = await this.generations.maintained([...byType.keys()]);
    const owners = [...new Set(items.map((i) => i.owner).filter((o): o is string => o !== null))];
    const ownerTargets = await this.hooks.resolveTargets(owners);
    for (const [entityType, group] of byType) {
      const descriptor = this.registry.find(entityType);
      if (!descriptor) {
        const error = `Entity type "${entityType}" is not configured in this application; add it to ai-entity-config.yml and an @AICapable entity, then retry the dead letters.`;
        group.forEach((item) => plan.push(failed(item, error)));
        continue;
      }
      const generations = maintained.get(entityType) ?? [];
      const targetsOf = (item: ClaimedItem): GenerationTarget[] => {
        const target = item.owner === null ? undefined : ownerTargets.get(item.owner);
        // An owner's generation that is no longer maintained (discarded, retired) has nothing to do.
        return target === undefined ? generations : generations.filter((g) => g.id === target);
      };
      // Items written to the queue by other means than enqueue() may carry malformed ids; they fail alone
      // instead of making the whole batch's query fail.
      const valid: ClaimedItem[] = [];
      for (const item of group) {
        if (normalizeEntityId(descriptor, item.entityId) === item.entityId) valid.push(item);
        else {
          plan.push(
            failed(
              item,
              `Entity id ${JSON.stringify(item.entityId)} of entity type "${entityType}" is not ${describeEntityIdKind(descriptor.idKind)} in canonical form; enqueue it through IndexingQueueService.enqueue(), which validates and normalises ids.`,
            ),
          );
        }
      }
      // Generations this instance cannot write: no provider for their space, or a field its entity class lacks
      // (a rolling deploy). Their items wait for an instance that can.
      const foreign = new Map<number, string>();
      for (const generation of generations) {
        if (!this.providers.forSpace(generation)) {
          foreign.set(generation.id, `No embedding provider for ${generation.model} (${generation.dimensions} dimensions) of index generation ${generation.id} is configured in this instance; add it to "embedding" or "retainedEmbeddings".`);
          continue;
        }
        try {
          propertiesFor(descriptor, [generation]);
        } catch (error) {
          foreign.set(generation.id, (error as Error).message);
        }
      }
      const usable = generations.filter((g) => !foreign.has(g.id));
      // A backfill's producer hands over the rows it just read (see EntitySnapshotCache), for its job's
      // generation. Only snapshots that call for an embedding are used as they are: "unchanged" or
      // "metadata only" rests on the stored vector, which may have changed since, so those rows are read
      // again. The version check in complete() keeps a snapshot of a row that changed meanwhile from being
      // written.
      const cached = new Map<ClaimedItem, EntitySnapshot>();
      const toRead: ClaimedItem[] = [];
      for (const item of valid) {
        const targets = targetsOf(item);
        const snapshot = this.snapshotCache.take(entityType, item.entityId);
        const usableSnapshot =
          snapshot && targets.length === 1 && snapshot.generationId === targets[0].id && snapshot.text.length > 0 && (item.force || snapshot.storedHash !== snapshot.hash);
        if (usableSnapshot) cached.set(item, snapshot);
        else toRead.push(item);
      }
      const ids = toRead.map((i) => i.entityId);
      const rows = await loadEntityRows(this.dataSource.manager, descriptor, ids, propertiesFor(descriptor, usable));
      const stored = await this.vectorStore.storedStates(entityType, ids, usable.map((g) => g.id));
      for (const item of valid) {
        const targets = targetsOf(item);
        const snapshot = cached.get(item);
        if (snapshot) {
          plan.push({ item, version: snapshot.version, action: 'embed', units: [{ generation: targets[0], action: 'embed', hash: snapshot.hash, snapshot }] });
          continue;
        }
        const row = rows.get(item.entityId);
        const units = targets.map((generation): PlannedUnit => {
          const reason = foreign.get(generation.id);
          if (reason !== undefined) {
            return {
              generation,
              action: 'defer',
              hash: null,
              deferral: { retry: reason, reason: 'failed', consumesAttempt: false, retryAfterMs: FOREIGN_GENERATION_DELAY_MS, cause: new Error(reason) },
            };
          }
          // The row is gone: its vector (if any) must go too. The live path usually removed it already.
          if (!row) return { generation, action: 'remove', hash: null };
          const unit = snapshotFor(row, descriptor, generation, stored.get(generation.id)?.get(item.entityId));
          if (unit.text.length === 0) {
            return {
              generation,
              action: 'fail',
              hash: unit.hash,
              error: `Entity ${entityType}#${item.entityId} has no text in its embeddable fields (${generation.textDefinition.embeddableFields.map((f) => f.name).join(', ')}); fill one of them, then retry.`,
            };
          }
          if (!item.force && unit.storedHash === unit.hash) {
            return { generation, action: sameMetadata(unit.storedMetadata, unit.metadata) ? 'unchanged' : 'metadata', hash: unit.hash, snapshot: unit };
          }
          return { generation, action: 'embed', hash: unit.hash, snapshot: unit };
        });
        const planned: PlannedItem = { item, version: row?.version ?? null, units, action: 'unchanged' };
        settle(planned);
        plan.push(planned);
      }
    }
    return plan;
  }

  /**
   * @internal Writes a chunk of planned items in one transaction fenced by the lease `token`: vectors,
   * metadata and removals of items still held and unchanged since the plan; stale items re-queued, failed
   * ones dead-lettered, deferred ones re-queued; usage recorded and outcomes reported.
   */
  async complete(token: string, plan: PlannedItem[], options: CompleteOptions = {}): Promise<void> {
    const records = (items: PlannedItem[]): VectorRecord[] =>
      items.flatMap((p) =>
        p.units
          .filter((u) => u.action === 'embed' && u.vector)
          .map((u) => ({
            generationId: u.generation.id,
            entityType: p.item.entityType,
            entityId: p.item.entityId,
            vector: u.vector!,
            contentHash: u.hash!,
            model: u.generation.model,
            dimensions: u.generation.dimensions,
            metadata: u.snapshot!.metadata,
          })),
      );
    // The vector write is built before the transaction opens: while it is open, it holds the row locks
    // (and, on the embedded database, the one session every connection shares). It is rebuilt inside only
    // when some items turn out lost or stale.
    const writing = plan.filter(writes);
    const prepared = this.vectorStore.prepareUpsert(records(writing));
    let lost = 0;
    // Provider usage is recorded with the chunk whatever becomes of its items (even when their lease was
    // lost): the requests were sent and billed either way.
    const chargeLost = options.chargeLost ?? true;
    let usage = this.usageOf(plan, options.pricing);
    await this.dataSource.transaction(async (manager) => {
      const owned = await this.claims.takeOwned(manager, plan.map((p) => p.item.id), token);
      lost = plan.length - owned.size;
      if (owned.size === 0) {
        if (chargeLost) {
          await this.recordUsage(manager, usage);
          await this.hooks.emitOutcomes(manager, [], usage);
        }
        await options.inTransaction?.(manager);
        return;
      }
      const mine = plan.filter((p) => owned.has(p.item.id));
      if (!chargeLost && lost > 0) usage = this.usageOf(mine, options.pricing);
      // A generation retired or discarded since the plan must not get rows back after its cleanup: its row is
      // locked (FOR SHARE) against the retirement's UPDATE, and units of generations no longer maintained go.
      const ended = await this.endedGenerations(manager, mine);
      if (ended.size > 0) mine.forEach((p) => (p.units = p.units.filter((u) => !ended.has(u.generation.id))));
      const stale = await this.findStale(manager, mine);
      const current = mine.filter((p) => !stale.has(p));
      const upserts = current.filter(writes);
      if (ended.size === 0 && upserts.length === writing.length) await prepared.run(manager);
      else await this.vectorStore.upsert(records(upserts), manager);
      const units = (action: Action) => current.flatMap((p) => p.units.filter((u) => u.action === action).map((u) => ({ p, u })));
      for (const group of groupBy(units('metadata'), ({ p, u }) => `${p.item.entityType}\u0000${u.generation.id}`).values()) {
        const { p, u } = group[0];
        await this.vectorStore.updateMetadata(
          p.item.entityType,
          u.generation.id,
          group.map(({ p: item, u: unit }) => ({ entityId: item.item.entityId, metadata: unit.snapshot!.metadata })),
          manager,
        );
      }
      for (const group of groupBy(units('remove'), ({ p, u }) => `${p.item.entityType}\u0000${u.generation.id}`).values()) {
        const { p, u } = group[0];
        await this.vectorStore.delete(p.item.entityType, group.map(({ p: item }) => item.item.entityId), manager, u.generation.id);
      }
      const done = current.filter((p) => p.action !== 'fail' && p.action !== 'defer');
      // A deferral that may be the input's fault uses an attempt; the last one makes the item dead.
      const deferred = current.filter((p) => p.action === 'defer');
      const exhausted = deferred.filter((p) => p.deferral!.consumesAttempt && p.item.attempts >= p.item.maxRetries);
      exhausted.forEach((p) => Object.assign(p, { action: 'fail', error: p.deferral!.retry }));
      const failedItems = current.filter((p) => p.action === 'fail');
      // takeOwned already removed every owned item; put back what did not complete.
      await this.claims.reinsert(manager, failedItems.map((p) => ({ item: p.item, error: p.error! })), 'DEAD');
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
      this.hooks.emitRequeued([
        ...[...stale].map((p) => ({ entityType: p.item.entityType, reason: 'stale' })),
        ...deferred.filter((p) => p.action === 'defer').map((p) => ({ entityType: p.item.entityType, reason: p.deferral!.reason })),
      ]);
      const outcomes: IndexingOutcome[] = [
        ...done.map((p) => outcome(p.item, p.action === 'embed' ? 'indexed' : p.action === 'remove' ? 'removed' : 'unchanged')),
        ...failedItems.map((p) => ({ ...outcome(p.item, 'dead'), error: p.error })),
      ];
      // Last, so the hot rows of the totals (and, in the listeners, the jobs') are locked until commit only.
      await this.recordUsage(manager, usage);
      await this.hooks.emitOutcomes(manager, outcomes, usage);
      await options.inTransaction?.(manager);
    });
    if (lost > 0) {
      this.logger.warn(`Lease ${token} lost for ${lost} item(s) (taken over after expiry); their results were discarded.`);
    }
  }

  /** Of the generations these items write, those no longer maintained; locks the others' rows FOR SHARE. */
  private async endedGenerations(manager: EntityManager, items: PlannedItem[]): Promise<Set<number>> {
    const ids = [...new Set(items.flatMap((p) => p.units.map((u) => u.generation.id)))];
    if (ids.length === 0) return new Set();
    const rows: Array<{ id: number }> = await manager.query(
      `SELECT id FROM ai_index_generations WHERE id = ANY($1::int[]) AND state IN ('BUILDING', 'READY', 'SERVING') ORDER BY id FOR SHARE`,
      [ids],
    );
    const maintained = new Set(rows.map((r) => r.id));
    return new Set(ids.filter((id) => !maintained.has(id)));
  }

  /**
   * Items whose entity row changed (or appeared/disappeared) since the plan was made. The rows stay locked
   * until the transaction ends, so what is written matches the committed row.
   */
  private async findStale(manager: EntityManager, items: PlannedItem[]): Promise<Set<PlannedItem>> {
    const stale = new Set<PlannedItem>();
    const writing = items.filter((p) => p.units.some((u) => u.action === 'embed' || u.action === 'remove' || u.action === 'metadata'));
    for (const [entityType, group] of groupBy(writing, (p) => p.item.entityType)) {
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
    // Items left unsent by a graceful stop are released, not troubled: nothing to warn about.
    const retried = plan.filter((p) => p.action === 'defer' && p.deferral!.reason !== 'shutdown').length;
    if (retried > 0 && !quota && !outage) {
      const first = plan.find((p) => p.action === 'defer' && p.deferral!.reason !== 'shutdown')!;
      this.logger.warn(`Lease ${batch.token}: ${retried} item(s) re-queued after provider trouble: ${first.deferral!.retry}`);
    }
  }

  /**
   * A batch that failed outside the provider calls (a database error; provider trouble comes back from
   * embedTexts as deferrals) is requeued using an attempt; at shutdown it is released without one.
   */
  private async handleFailure(batch: ClaimedBatch, error: Error, signal: AbortSignal, uncounted: PlannedItem[], held: ClaimedItem[]): Promise<void> {
    const ids = batch.items.map((i) => i.id);
    const where = { ids, token: batch.token };
    const usage = this.usageOf(uncounted);
    let dead: DeadItem[] = [];
    await this.dataSource.transaction(async (manager) => {
      if (signal.aborted) {
        await this.claims.requeue(manager, where, { consumeAttempt: false, delayMs: 0, error: 'Released at shutdown.' });
        this.hooks.emitRequeued(held.map((i) => ({ entityType: i.entityType, reason: 'released' })));
        await this.recordUsage(manager, usage);
        await this.hooks.emitOutcomes(manager, [], usage);
        return;
      }
      dead = await this.claims.requeue(manager, where, {
        consumeAttempt: true,
        backoff: { baseMs: this.options.queue.backoffBaseMs, maxMs: this.options.queue.backoffMaxMs },
        error: error.message,
      });
      const deadIds = new Set(dead.map((d) => d.id));
      this.hooks.emitRequeued(held.filter((i) => !deadIds.has(i.id)).map((i) => ({ entityType: i.entityType, reason: 'error' })));
      await this.recordUsage(manager, usage);
      await this.hooks.emitOutcomes(
        manager,
        dead.map((d) => ({ itemId: d.id, entityType: d.entityType, entityId: d.entityId, owner: d.owner, result: 'dead', error: d.lastError ?? undefined })),
        usage,
      );
    });
    if (!signal.aborted) {
      this.logger.warn(`Batch of ${ids.length} item(s) failed and was rescheduled (${dead.length} dead-lettered): ${error.message}`);
    }
  }

}

/** A planned item that fails as a whole (unknown entity type, malformed id). */
function failed(item: ClaimedItem, error: string): PlannedItem {
  return { item, version: null, units: [], action: 'fail', error };
}

/** Whether an item writes vectors (some unit was embedded). */
function writes(p: PlannedItem): boolean {
  return p.units.some((u) => u.action === 'embed' && u.vector !== undefined);
}

/**
 * The item's verdict from its units: it fails when one unit failed, goes back to the queue when one was
 * deferred (the others' writes are kept and found unchanged next time), and otherwise counts as indexed
 * when one was embedded, removed when all were removed, unchanged otherwise. An item without units (its
 * owner's generation is no longer maintained) is unchanged.
 */
export function settle(p: PlannedItem): void {
  if (p.units.length === 0) return;
  const failedUnit = p.units.find((u) => u.action === 'fail');
  const deferredUnit = p.units.find((u) => u.action === 'defer');
  if (failedUnit) Object.assign(p, { action: 'fail', error: failedUnit.error });
  else if (deferredUnit) Object.assign(p, { action: 'defer', deferral: deferredUnit.deferral });
  else if (p.units.some((u) => u.action === 'embed')) p.action = 'embed';
  else if (p.units.every((u) => u.action === 'remove')) p.action = 'remove';
  else if (p.units.some((u) => u.action === 'metadata')) p.action = 'metadata';
  else p.action = 'unchanged';
}

function outcome(item: ClaimedItem, result: IndexingOutcome['result']): IndexingOutcome {
  return { itemId: item.id, entityType: item.entityType, entityId: item.entityId, owner: item.owner, result, priority: item.priority, enqueuedAt: item.enqueuedAt };
}

export function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const group = groups.get(k);
    if (group) group.push(item);
    else groups.set(k, [item]);
  }
  return groups;
}
