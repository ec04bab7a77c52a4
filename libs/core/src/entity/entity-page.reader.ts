import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager, ObjectLiteral, SelectQueryBuilder } from 'typeorm';
import { AI_DATA_SOURCE, EMBEDDING_PROVIDER } from '../ai-core.constants';
import type { EmbeddingProvider } from '../embedding/embedding-provider.interface';
import { IndexGenerationCatalog, type GenerationTarget } from '../generation/index-generation.catalog';
import { GenerationNotFoundError } from '../generation/index-generation.errors';
import { AiEntityRegistry, type AiEntityDescriptor } from './ai-entity-registry.service';
import { AiEntityConfigError } from './entity-config.errors';
import { EntitySnapshotCache } from './entity-snapshot.cache';
import { readEntitySnapshots, type EntitySnapshot } from './entity-snapshot.loader';
import { sameMetadata } from './entity-text.builder';
import { estimateTokens } from '../embedding/token-estimate';
import { SearchableEntityRecord } from '../vector-store/searchable-entity.entity';
import { normalizeEntityId } from './entity-id';


/** Row filters of a page read; pushed into SQL. */
export interface EntityPageFilters {
  /** Only rows created before this instant (needs a `@CreateDateColumn`). */
  createdBefore?: Date;
  /** Only rows created at or after this instant (needs a `@CreateDateColumn`). */
  createdAfter?: Date;
  /** Only these primary keys. */
  ids?: string[];
}

/** One row of a page: its id, the hash of its current content and the hash stored with its vector. */
export interface EntityPageRow {
  entityId: string;
  hash: string;
  /** Null when the entity has no vector. */
  storedHash: string | null;
  /**
   * Tokens of the entity's text as the provider counts them (its tokenizer, else the estimate); only when
   * the page was read with `countTokens` (dry-run estimates), as a tokenizer costs CPU per row.
   */
  tokens?: number;
  /** The stored metadata differs from the row's (e.g. a metadata field was added to the configuration). */
  metadataChanged: boolean;
}

/** One page of a generation's vectors in entity-id order (see {@link EntityPageReader.readVectorPage}). */
export interface VectorPage {
  /** The page's vector entity ids, in order; the last one is the next page's `afterId`. */
  entityIds: string[];
  /** Those of them whose row no longer exists in the entity table (orphaned vectors). */
  orphans: string[];
}

/**
 * Reads an entity table in primary-key order, page by page (keyset pagination: `pk > last ORDER BY pk
 * LIMIT n`, so page 1,000 costs what page 1 costs, unlike OFFSET), with each row's current content hash
 * and the hash stored with its vector. Used by backfills to decide what to enqueue.
 */
@Injectable()
export class EntityPageReader {
  /** The snapshot each returned row was built from, for {@link handOffToWorkers}; dies with the rows. */
  private readonly snapshotsByRow = new WeakMap<EntityPageRow, EntitySnapshot>();

  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    private readonly registry: AiEntityRegistry,
    private readonly snapshots: EntitySnapshotCache,
    private readonly generations: IndexGenerationCatalog,
  ) {}

  /**
   * Reads the page after `afterId` (or the first page when null), with the hashes of `generationId`
   * (default: the generation serving the entity type).
   */
  async readPage(
    entityType: string,
    page: { afterId: string | null; limit: number; filters?: EntityPageFilters; generationId?: number; countTokens?: boolean },
    manager: EntityManager = this.dataSource.manager,
  ): Promise<EntityPageRow[]> {
    const descriptor = this.require(entityType);
    const generation = await this.target(entityType, page.generationId, manager);
    const pk = descriptor.primaryColumn.propertyName;
    const query = this.filtered(manager, descriptor, page.filters).orderBy(`e.${pk}`, 'ASC').limit(page.limit);
    if (page.afterId !== null) query.andWhere(`e.${pk} > :afterId`, { afterId: page.afterId });
    const snapshots = await readEntitySnapshots(query, descriptor, generation);
    return snapshots.map((snapshot) => {
      const row: EntityPageRow = {
        entityId: snapshot.entityId,
        hash: snapshot.hash,
        storedHash: snapshot.storedHash,
        metadataChanged: !sameMetadata(snapshot.storedMetadata, snapshot.metadata),
      };
      if (page.countTokens) row.tokens = this.provider.countTokens?.(snapshot.text) ?? estimateTokens(snapshot.text);
      this.snapshotsByRow.set(row, snapshot);
      return row;
    });
  }

  /**
   * Offers the content these rows (returned by {@link readPage}) were read with to this process's
   * indexing workers, so that after the rows are enqueued the workers embed them without reading them
   * again. Call it once the enqueue has committed. Only a hint: before writing a vector the worker checks,
   * under a row lock, that the row has not changed since it was read, and reads it again if it has.
   */
  handOffToWorkers(entityType: string, rows: EntityPageRow[]): void {
    const snapshots: EntitySnapshot[] = [];
    for (const row of rows) {
      const snapshot = this.snapshotsByRow.get(row);
      if (snapshot) snapshots.push(snapshot);
    }
    this.snapshots.put(entityType, snapshots);
  }

  /**
   * Reads the page of `generationId`'s vectors after `afterId` (or the first page when null), in entity-id
   * order (keyset over the vector table's primary key, so the last page costs what the first costs), and
   * anti-joins it with the entity table: `orphans` are the vectors whose row does not exist. An id that is
   * not a valid primary key of the entity (e.g. text in an integer key's table) cannot have a row, so it is
   * an orphan too.
   */
  async readVectorPage(
    entityType: string,
    generationId: number,
    afterId: string | null,
    limit: number,
    manager: EntityManager = this.dataSource.manager,
  ): Promise<VectorPage> {
    this.require(entityType);
    const query = manager
      .createQueryBuilder(SearchableEntityRecord, 's')
      .select('s.entityId', 'entity_id')
      .where('s.entityType = :entityType', { entityType })
      .andWhere('s.generationId = :generationId', { generationId })
      .orderBy('s.entityId', 'ASC')
      .limit(limit);
    if (afterId !== null) query.andWhere('s.entityId > :afterId', { afterId });
    const entityIds = (await query.getRawMany<{ entity_id: string }>()).map((r) => r.entity_id);
    return { entityIds, orphans: await this.withoutRows(entityType, entityIds, manager) };
  }

  /**
   * Locks `generationId`'s vectors of `entityIds` (`FOR UPDATE`, until the caller's transaction ends) and
   * returns those whose row still does not exist, so the caller can delete them without racing a worker:
   * a worker writing one of these vectors waits for the lock, and a row created before the lock was taken
   * is seen here (the check runs after the lock, with a new snapshot) and its vector kept. Call it inside a
   * transaction.
   */
  async lockOrphans(entityType: string, generationId: number, entityIds: string[], manager: EntityManager): Promise<string[]> {
    this.require(entityType);
    if (entityIds.length === 0) return [];
    const locked = await manager
      .createQueryBuilder(SearchableEntityRecord, 's')
      .select('s.entityId', 'entity_id')
      .where('s.entityType = :entityType', { entityType })
      .andWhere('s.generationId = :generationId', { generationId })
      .andWhere('s.entityId = ANY(:entityIds)', { entityIds })
      // One lock order for every caller, so two verifications of the same generation cannot deadlock.
      .orderBy('s.entityId', 'ASC')
      .setLock('pessimistic_write')
      .getRawMany<{ entity_id: string }>();
    return this.withoutRows(
      entityType,
      locked.map((r) => r.entity_id),
      manager,
    );
  }

  /** The ids among `entityIds` (vector-table ids) that have no row in the entity table, in their order. */
  private async withoutRows(entityType: string, entityIds: string[], manager: EntityManager): Promise<string[]> {
    if (entityIds.length === 0) return [];
    const descriptor = this.require(entityType);
    // The key in its canonical form, as the entity table compares it; an id that is none has no row.
    const keys = new Map<string, string>();
    for (const id of entityIds) {
      const key = normalizeEntityId(descriptor, id);
      if (key !== undefined) keys.set(id, key);
    }
    const existing = new Set<string>();
    if (keys.size > 0) {
      const pk = descriptor.primaryColumn.propertyName;
      const rows = await manager
        .createQueryBuilder(descriptor.target, 'e')
        .select(`e.${pk}`, 'ai_id')
        .where(`e.${pk} = ANY(:ids)`, { ids: [...new Set(keys.values())] })
        .getRawMany<{ ai_id: unknown }>();
      for (const row of rows) existing.add(String(row.ai_id));
    }
    return entityIds.filter((id) => {
      const key = keys.get(id);
      return key === undefined || !existing.has(key);
    });
  }

  /** The generation a page is read for: the given one, or the serving one. */
  private async target(entityType: string, generationId: number | undefined, manager: EntityManager): Promise<GenerationTarget> {
    if (generationId === undefined) {
      const serving = await this.generations.serving(entityType, manager);
      if (!serving) throw new GenerationNotFoundError(`No index generation serves "${entityType}" yet; start the application once so that the core creates it.`);
      return serving;
    }
    const row = await this.generations.find(generationId, manager);
    if (!row || row.entityType !== entityType) {
      throw new GenerationNotFoundError(`Index generation ${generationId} of "${entityType}" does not exist; list the generations with GET /api/ai/migration/generations.`);
    }
    return this.generations.toTarget(row);
  }

  /** Number of rows matching the filters. */
  async count(entityType: string, filters?: EntityPageFilters, manager: EntityManager = this.dataSource.manager): Promise<number> {
    return this.filtered(manager, this.require(entityType), filters).getCount();
  }

  /** Whether the entity type has a creation-date column, so createdBefore/createdAfter filters can apply. */
  hasCreatedDate(entityType: string): boolean {
    return Boolean(this.require(entityType).metadata.createDateColumn);
  }

  private filtered(manager: EntityManager, descriptor: AiEntityDescriptor, filters: EntityPageFilters = {}): SelectQueryBuilder<ObjectLiteral> {
    const pk = descriptor.primaryColumn.propertyName;
    const query = manager.createQueryBuilder(descriptor.target, 'e').where('1 = 1');
    if (filters.ids) query.andWhere(`e.${pk} = ANY(:ids)`, { ids: filters.ids });
    if (filters.createdBefore || filters.createdAfter) {
      const created = descriptor.metadata.createDateColumn;
      if (!created) {
        throw new AiEntityConfigError(
          `Entity type "${descriptor.entityType}" (${descriptor.target.name}) has no @CreateDateColumn, so the createdBefore/createdAfter filters cannot apply; add one or filter by ids.`,
        );
      }
      if (filters.createdBefore) query.andWhere(`e.${created.propertyName} < :createdBefore`, { createdBefore: filters.createdBefore });
      if (filters.createdAfter) query.andWhere(`e.${created.propertyName} >= :createdAfter`, { createdAfter: filters.createdAfter });
    }
    return query as SelectQueryBuilder<ObjectLiteral>;
  }

  private require(entityType: string): AiEntityDescriptor {
    const descriptor = this.registry.find(entityType);
    if (!descriptor) {
      throw new AiEntityConfigError(
        `Entity type "${entityType}" is not configured in this application; known types: ${this.registry.entityTypes().join(', ') || '(none)'}.`,
      );
    }
    return descriptor;
  }
}
