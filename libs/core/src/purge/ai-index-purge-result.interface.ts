/** What {@link AiIndexPurgeService.purgeEntityType} removed. */
export interface AiIndexPurgeResult {
  entityType: string;
  /** Stored vectors removed (search no longer finds these entities). */
  vectors: number;
  /** Queue items removed: pending, in flight and dead-lettered. */
  queueItems: number;
}
