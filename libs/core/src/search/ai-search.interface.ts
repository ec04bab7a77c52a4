/**
 * A semantic search request.
 *
 * @example
 * ```ts
 * await search.search({ entityType: 'product', query: 'waterproof hiking boots', limit: 5, filter: { category: 'Outdoor' } });
 * ```
 */
export interface AiSearchRequest {
  entityType: string;
  /** Free text; embedded with the configured provider. */
  query: string;
  /** Most results, 1..1000. Default 10. */
  limit?: number;
  /** Lowest cosine similarity (-1..1) a result may have. */
  threshold?: number;
  /** Metadata equality filter over the entity type's metadata-fields. */
  filter?: Record<string, unknown>;
  /**
   * Search this index generation instead of the serving one (to compare a generation being built or kept
   * for rollback; the quality gate does). Default: the generation serving the entity type.
   */
  generationId?: number;
}

/** One search result. */
export interface AiSearchResult {
  entityId: string;
  /** Cosine similarity, 1 = same direction. */
  score: number;
  metadata: Record<string, unknown>;
}
