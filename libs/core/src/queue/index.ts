export { IndexingHooks, type IndexingOutcome, type IndexingOutcomeListener, type IndexingResult, type ProviderUnavailableListener, type QuotaExceededListener } from './indexing-hooks';
export { IndexingQueueItem, type IndexingItemStatus } from './indexing-queue-item.entity';
export { IndexingQueueError } from './indexing-queue.errors';
export { IndexingQueueService, isPendingTwinConflict } from './indexing-queue.service';
export * from './indexing-request.interface';
export type { IndexingInsertGate, IndexingItemPacing, NewOwnedItems, NewOwnedItemsResult } from './owned-items.interface';
