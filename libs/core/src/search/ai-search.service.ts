import { Inject, Injectable } from '@nestjs/common';
import { VECTOR_STORE } from '../ai-core.constants';
import { assertStorableText } from '../common/storable-text';
import { EmbeddingService } from '../embedding/embedding.service';
import { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import type { VectorStore } from '../vector-store/vector-store.interface';
import { AiSearchRequestError } from './ai-search.errors';
import type { AiSearchRequest, AiSearchResult } from './ai-search.interface';

/** How long a search retries transient provider failures before it answers with the provider's error. */
const SEARCH_RETRY_BUDGET_MS = 3_000;

/**
 * Semantic search over indexed entities: embeds the query with the configured provider (through the shared
 * rate limiter) and returns the nearest entities of the type by cosine similarity.
 */
@Injectable()
export class AiSearchService {
  constructor(
    private readonly registry: AiEntityRegistry,
    private readonly embedding: EmbeddingService,
    @Inject(VECTOR_STORE) private readonly vectorStore: VectorStore,
  ) {}

  /** Runs a search; throws {@link AiSearchRequestError} for invalid input. */
  async search(request: AiSearchRequest): Promise<AiSearchResult[]> {
    const descriptor = this.registry.find(request.entityType);
    if (!descriptor) {
      throw new AiSearchRequestError(
        `Unknown entity type "${request.entityType}" in "entityType"; known types: ${this.registry.entityTypes().join(', ') || '(none)'}.`,
      );
    }
    if (typeof request.query !== 'string' || request.query.trim().length === 0) {
      throw new AiSearchRequestError('"query" must be a non-empty text.');
    }
    // NUL and unpaired surrogates fail in PostgreSQL (the filter becomes a jsonb parameter) or at the
    // provider (the query is sent as JSON); either way the caller's input is at fault, so say so here.
    const toError = (message: string) => new AiSearchRequestError(message);
    assertStorableText(request.query, 'query', { quote: true, toError });
    assertStorableText(request.filter, 'filter', { quote: true, toError });
    const limit = request.limit ?? 10;
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000) {
      throw new AiSearchRequestError(`"limit" is ${limit}; use an integer from 1 to 1000.`);
    }
    if (request.threshold !== undefined && !(request.threshold >= -1 && request.threshold <= 1)) {
      throw new AiSearchRequestError(`"threshold" is ${request.threshold}; use a number from -1 to 1.`);
    }
    const unknownFilters = Object.keys(request.filter ?? {}).filter((k) => !descriptor.config.metadataFields.includes(k));
    if (unknownFilters.length > 0) {
      throw new AiSearchRequestError(
        `"filter" uses ${unknownFilters.map((k) => `"${k}"`).join(', ')}, not a metadata field of "${request.entityType}"; ` +
          `filterable fields: ${descriptor.config.metadataFields.join(', ') || '(none)'}.`,
      );
    }
    // A person waits for this answer: it goes ahead of backfill requests at the limiter, and transient
    // provider failures are retried for a few seconds only before the provider's error is returned.
    const [embedded] = await this.embedding.embedTexts([request.query], undefined, { lane: 'interactive', retryBudgetMs: SEARCH_RETRY_BUDGET_MS });
    if ('retry' in embedded) throw embedded.cause;
    if (!('vector' in embedded)) throw new AiSearchRequestError(`"query" cannot be embedded: ${embedded.error}`);
    const provider = this.embedding.provider;
    return this.vectorStore.search({
      entityType: request.entityType,
      vector: embedded.vector,
      model: provider.model,
      dimensions: provider.dimensions,
      limit,
      threshold: request.threshold,
      filter: request.filter,
    });
  }
}
