import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_DATA_SOURCE } from '../ai-core.constants';
import { findUnstorableText, unstorableTextMessage } from '../common/storable-text';
import { IndexingQueueItem } from '../queue/indexing-queue-item.entity';
import { SearchableEntityRecord } from '../vector-store/searchable-entity.entity';
import { AiIndexPurgeError } from './ai-index-purge.errors';
import type { AiIndexPurgeResult } from './ai-index-purge-result.interface';

/**
 * Removes an entity type's index: its stored vectors and its queue items. Use it instead of deleting from
 * the library's tables by hand — after emptying or dropping the entity's table, or to rebuild an index from
 * scratch with a backfill.
 *
 * The entity type does not have to be configured any more, so the index of a type removed from
 * `ai-entity-config.yml` can be cleaned up too. Cancel running backfill jobs of the type first: a job's
 * producer would queue the rows it reads next again. Live writes after the purge are indexed as usual.
 *
 * @example
 * ```ts
 * await dataSource.transaction(async (manager) => {
 *   await manager.query('TRUNCATE products');
 *   await purge.purgeEntityType('product', manager); // commits (or rolls back) with the truncate
 * });
 * ```
 */
@Injectable()
export class AiIndexPurgeService {
  /** @param dataSource the application's DataSource (injected by AiCoreModule; pass it when using the service without Nest, e.g. in a CLI). */
  constructor(@Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource) {}

  /**
   * Removes every vector and every queue item (pending, in flight, dead-lettered) of `entityType`, in
   * `manager`'s transaction when given, else in a transaction of its own. Items a worker is processing at
   * that moment are discarded by it: its completion finds them gone and writes nothing.
   */
  async purgeEntityType(entityType: string, manager?: EntityManager): Promise<AiIndexPurgeResult> {
    if (typeof entityType !== 'string' || entityType.length === 0 || entityType.length > 100) {
      throw new AiIndexPurgeError(
        `AiIndexPurgeService.purgeEntityType: "entityType" is ${JSON.stringify(entityType)}; give the entity type name (1-100 characters), as in @AICapable.`,
      );
    }
    const unstorable = findUnstorableText(entityType);
    if (unstorable) throw new AiIndexPurgeError(`AiIndexPurgeService.purgeEntityType: ${unstorableTextMessage('entityType', unstorable, { quote: true })}.`);
    if (!manager) return this.dataSource.transaction((own) => this.purgeEntityType(entityType, own));
    // Queue items first: a worker that already took its items holds their row locks until its transaction
    // (which writes their vectors) commits; this statement waits for it, so the vector delete below, a new
    // statement, sees those vectors and removes them too.
    const queueItems = (await manager.delete(IndexingQueueItem, { entityType })).affected ?? 0;
    const vectors = (await manager.delete(SearchableEntityRecord, { entityType })).affected ?? 0;
    return { entityType, vectors, queueItems };
  }
}
