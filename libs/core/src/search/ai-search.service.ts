import { Inject, Injectable, Logger } from '@nestjs/common';
import { VECTOR_STORE } from '../ai-core.constants';
import { assertStorableText } from '../common/storable-text';
import { EmbeddingProviderRegistry } from '../embedding/embedding-provider.registry';
import { IndexGenerationCatalog } from '../generation/index-generation.catalog';
import { MAINTAINED_GENERATION_STATES } from '../generation/index-generation-state.enum';
import { AiEntityRegistry } from '../entity/ai-entity-registry.service';
import { ProviderUsageService } from '../usage/provider-usage.service';
import type { VectorStore } from '../vector-store/vector-store.interface';
import { AiSearchRequestError } from './ai-search.errors';
import type { AiSearchRequest, AiSearchResult } from './ai-search.interface';

/** How long a search retries transient provider failures before it answers with the provider's error. */
const SEARCH_RETRY_BUDGET_MS = 3_000;

/**
 * Semantic search over indexed entities: finds the index generation serving the entity type, embeds the
 * query with that generation's provider (through its rate limiter) and returns the nearest entities by
 * cosine similarity among the generation's vectors.
 */
@Injectable()
export class AiSearchService {
  private readonly logger = new Logger('AiSearchService');

  constructor(
    private readonly registry: AiEntityRegistry,
    @Inject(VECTOR_STORE) private readonly vectorStore: VectorStore,
    private readonly providers: EmbeddingProviderRegistry,
    private readonly generations: IndexGenerationCatalog,
    private readonly usage: ProviderUsageService,
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
    if (request.generationId !== undefined && !(Number.isInteger(request.generationId) && request.generationId >= 1 && request.generationId <= 2_147_483_647)) {
      throw new AiSearchRequestError(`"generationId" is ${JSON.stringify(request.generationId)}; use the id of an index generation, or leave it out for the serving one.`);
    }
    // Read per query, so a cutover on any instance takes effect at this instance's next search.
    const generation = request.generationId === undefined
      ? await this.generations.serving(request.entityType)
      : await this.generations.find(request.generationId).then((row) => {
          if (row && row.entityType === request.entityType && !MAINTAINED_GENERATION_STATES.includes(row.state)) {
            throw new AiSearchRequestError(
              `Index generation ${row.id} of "${request.entityType}" is ${row.state}: its vectors are deleted or no longer kept current, so it cannot be searched.`,
            );
          }
          return row && row.entityType === request.entityType ? this.generations.toTarget(row) : undefined;
        });
    if (!generation) {
      throw new AiSearchRequestError(
        request.generationId === undefined
          ? `No index generation serves "${request.entityType}" yet; it is created when the application starts.`
          : `Index generation ${request.generationId} of "${request.entityType}" does not exist; list the generations with GET /api/ai/migration/generations.`,
      );
    }
    // Startup checks that the serving generation's provider is configured; a generation about to serve has one too.
    const embedding = this.providers.forSpace(generation);
    if (!embedding) {
      throw new AiSearchRequestError(
        `Index generation ${generation.id} of "${request.entityType}" embeds with ${generation.model} (${generation.dimensions} dimensions), ` +
          `which no provider of this instance has; add it to "retainedEmbeddings".`,
      );
    }
    // A person waits for this answer: it goes ahead of backfill requests at the limiter, and transient
    // provider failures are retried for a few seconds only before the provider's error is returned.
    const { outcomes, usage } = await embedding.embedTextsWithUsage([request.query], undefined, {
      lane: 'interactive',
      retryBudgetMs: SEARCH_RETRY_BUDGET_MS,
    });
    const [embedded] = outcomes;
    // Metering must not fail a person's search: a failed write of the totals is logged instead.
    await this.usage
      .record('search', [{ provider: embedding.provider.name, model: embedding.provider.model, ...usage[0] }])
      .catch((error: Error) => this.logger.warn(`Search usage was not recorded: ${error.message}`));
    if ('retry' in embedded) throw embedded.cause;
    if (!('vector' in embedded)) throw new AiSearchRequestError(`"query" cannot be embedded: ${embedded.error}`);
    return this.vectorStore.search({
      generationId: generation.id,
      entityType: request.entityType,
      vector: embedded.vector,
      model: generation.model,
      dimensions: generation.dimensions,
      limit,
      threshold: request.threshold,
      filter: request.filter,
    });
  }
}
