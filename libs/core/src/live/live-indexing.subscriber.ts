import { Logger } from '@nestjs/common';
import type { EntitySubscriberInterface, InsertEvent, ObjectLiteral, RemoveEvent, TransactionCommitEvent, UpdateEvent } from 'typeorm';
import type { EntityManager } from 'typeorm';
import type { GenerationTarget, IndexGenerationCatalog } from '../generation/index-generation.catalog';
import type { AiEntityDescriptor, AiEntityRegistry } from '../entity/ai-entity-registry.service';
import { buildEntityText, computeContentHash, extractMetadata } from '../entity/entity-text.builder';
import type { IndexingQueueService } from '../queue/indexing-queue.service';
import { IndexingPriority } from '../queue/indexing-request.interface';
import type { VectorStore } from '../vector-store/vector-store.interface';

/** How long the subscriber trusts its list of an entity type's maintained generations. */
const GENERATIONS_TTL_MS = 2_000;

/**
 * Live indexing: TypeORM writes of `@AICapable` entities enqueue HIGH-priority work through the event's
 * own EntityManager, i.e. in the same transaction as the write — if the write commits, so does its
 * indexing work, and nothing is lost when the process dies right after. The item targets every
 * maintained index generation (the serving one and one being built), so both stay current. Updates whose
 * content hash is unchanged in every generation enqueue nothing (a change of metadata fields alone is
 * written to the vector rows at once); removals delete the vectors of every generation in the same
 * transaction.
 *
 * Writes that bypass entity events (`QueryBuilder.update()`, raw SQL, COPY) are not seen: enqueue those
 * entities yourself with {@link IndexingQueueService.enqueue}, or run a backfill.
 * @internal
 */
export class LiveIndexingSubscriber implements EntitySubscriberInterface<ObjectLiteral> {
  private readonly logger = new Logger('LiveIndexing');
  private readonly warned = new Set<string>();
  /** Query runners whose open transaction enqueued live work; the workers are woken when it commits. */
  private readonly enqueuedIn = new WeakSet<object>();
  private readonly generations = new Map<string, { at: number; list: GenerationTarget[] }>();

  constructor(
    private readonly registry: AiEntityRegistry,
    private readonly queue: IndexingQueueService,
    private readonly vectorStore: VectorStore,
    private readonly catalog: IndexGenerationCatalog,
  ) {}

  /**
   * The maintained generations of an entity type, read at most every GENERATIONS_TTL_MS through the write's
   * own EntityManager (on the embedded database another connection would wait for this transaction).
   * A list that is out of date only costs an enqueue: refreshIfCurrent checks the generations in SQL.
   */
  private async maintained(entityType: string, manager: EntityManager): Promise<GenerationTarget[]> {
    const cached = this.generations.get(entityType);
    if (cached && Date.now() - cached.at < GENERATIONS_TTL_MS) return cached.list;
    const list = (await this.catalog.maintained([entityType], manager)).get(entityType) ?? [];
    this.generations.set(entityType, { at: Date.now(), list });
    return list;
  }

  async afterInsert(event: InsertEvent<ObjectLiteral>): Promise<void> {
    const descriptor = this.registry.findByTarget(event.metadata.target as Function);
    if (!descriptor) return;
    const id = this.idOf(descriptor, event.entity, (event as { entityId?: ObjectLiteral }).entityId);
    if (id !== undefined) await this.enqueue(descriptor, id, event);
  }

  async afterUpdate(event: UpdateEvent<ObjectLiteral>): Promise<void> {
    const descriptor = this.registry.findByTarget(event.metadata.target as Function);
    if (!descriptor || !event.entity) return;
    const merged = { ...(event.databaseEntity ?? {}), ...event.entity } as ObjectLiteral;
    const id = this.idOf(descriptor, merged);
    if (id === undefined) {
      this.warnOnce(descriptor.entityType, 'update');
      return;
    }
    const complete = [...descriptor.config.embeddableFields.map((f) => f.name), ...descriptor.config.metadataFields].every(
      (name) => name in merged,
    );
    const generations = complete ? await this.maintained(descriptor.entityType, event.manager) : [];
    const known = new Set(Object.keys(merged));
    if (generations.length > 0 && generations.every((g) => g.textDefinition.embeddableFields.every((f) => known.has(f.name)))) {
      // Same text in every maintained generation: nothing to embed, but metadata fields (filters) may have
      // changed — refresh them here. A generation this list does not know makes the check fail (enqueue).
      const expected = generations.map((generation) => {
        const text = buildEntityText(merged, { ...descriptor.config, embeddableFields: generation.textDefinition.embeddableFields });
        return { generationId: generation.id, contentHash: computeContentHash(text, generation.model, generation.dimensions) };
      });
      const metadata = extractMetadata(merged, descriptor.config);
      if (await this.vectorStore.refreshIfCurrent(descriptor.entityType, id, expected, metadata, event.manager)) return;
    }
    await this.enqueue(descriptor, id, event);
  }

  async afterRemove(event: RemoveEvent<ObjectLiteral>): Promise<void> {
    const descriptor = this.registry.findByTarget(event.metadata.target as Function);
    if (!descriptor) return;
    const id = this.idOf(descriptor, event.databaseEntity ?? event.entity, event.entityId as ObjectLiteral | undefined);
    if (id === undefined) {
      this.warnOnce(descriptor.entityType, 'delete');
      return;
    }
    await this.vectorStore.delete(descriptor.entityType, [id], event.manager);
  }

  /** QueryBuilder writes (`repository.update(criteria, …)`, `repository.delete(criteria)`) carry no ids. */
  private warnOnce(entityType: string, kind: 'update' | 'delete'): void {
    const key = `${entityType}:${kind}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.logger.warn(
      `A ${kind} of "${entityType}" through the QueryBuilder (repository.${kind}(criteria, ...)) carries no entity ids, so it was not ` +
        `indexed live. Use save()/remove(), or enqueue the affected ids with IndexingQueueService.enqueue() in the same transaction. (Logged once.)`,
    );
  }

  /**
   * The wake-up sent by enqueue() inside the write's transaction reaches workers before the item is
   * visible, so they would sleep a poll interval; waking them again at commit starts the work at once.
   */
  afterTransactionCommit(event: TransactionCommitEvent): void {
    if (!this.enqueuedIn.has(event.queryRunner)) return;
    this.enqueuedIn.delete(event.queryRunner);
    this.queue.notifyLiveWorkers();
  }

  private async enqueue(
    descriptor: AiEntityDescriptor,
    entityId: string,
    event: { manager: InsertEvent<ObjectLiteral>['manager']; queryRunner: InsertEvent<ObjectLiteral>['queryRunner'] },
  ) {
    // Woken at commit (afterTransactionCommit): a wake-up now would find nothing visible, and the backfill
    // loops' claims it triggers would queue ahead of the live item's statements.
    const inTransaction = event.queryRunner?.isTransactionActive === true;
    await this.queue.enqueue(
      { entityType: descriptor.entityType, entityId, priority: IndexingPriority.HIGH },
      event.manager,
      { wake: !inTransaction },
    );
    if (inTransaction) this.enqueuedIn.add(event.queryRunner);
  }

  private idOf(descriptor: AiEntityDescriptor, entity: ObjectLiteral | undefined, entityId?: ObjectLiteral | string | number): string | undefined {
    const property = descriptor.primaryColumn.propertyName;
    const fromId = entityId !== undefined && entityId !== null && typeof entityId === 'object' ? entityId[property] : entityId;
    const value = fromId ?? entity?.[property];
    return value === undefined || value === null ? undefined : String(value);
  }
}
