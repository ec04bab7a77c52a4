/**
 * @ai-infrastructure/core — make an application's TypeORM entities AI-searchable: `@AICapable` entities and
 * `ai-entity-config.yml`, embedding providers, a pgvector store in the application's own database, the
 * indexing queue and its workers, live indexing of TypeORM writes, and semantic search.
 *
 * This module is the package's public API: what an application needs, kept stable across minor versions.
 * What the sibling packages (`@ai-infrastructure/migration-core`, `@ai-infrastructure/web`) share with
 * core beyond it is in `@ai-infrastructure/core/internal`, which applications should not import.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRootAsync({
 *       useFactory: () => ({ type: 'postgres', entities: [Product, ...AI_CORE_ENTITIES], migrations: [...AI_CORE_MIGRATIONS], migrationsRun: true }),
 *       dataSourceFactory: (options) => createAiDataSource(options!),
 *     }),
 *     AiCoreModule.forRoot({ entityConfigPath: 'ai-entity-config.yml', embedding: { provider: 'hashing' } }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */

// ---- the module and its configuration ----

/** The AI core module: `AiCoreModule.forRoot(options)` / `forRootAsync(...)`, once, in the root module. */
export { AiCoreModule } from './ai-core.module';
/** Options of `AiCoreModule.forRoot`: entity configuration path, embedding provider, worker, queue, search. */
export type * from './config/ai-core-options.interface';
/** Invalid AiCoreModule options (thrown at startup, naming the option). */
export { AiCoreConfigurationError } from './config/ai-core.errors';

// ---- the database ----

/** The core's TypeORM entities and versioned migrations, to list in the application's DataSource options. */
export { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS } from './database/ai-core.schema';
/** A DataSource on `DATABASE_URL`, or on an embedded PostgreSQL (PGlite with pgvector) under `./data`. */
export { createAiDataSource, type AiDataSourceOptions } from './database/ai-data-source.factory';
/** Picks the database (`DATABASE_URL`, else embedded) without creating a DataSource. */
export { resolveDatabase, type ResolveDatabaseOptions, type ResolvedDatabase } from './database/resolve-database';
/** The embedded PostgreSQL (PGlite with pgvector) behind a local PostgreSQL wire-protocol endpoint. */
export { EmbeddedPostgres, type EmbeddedPostgresOptions } from './database/embedded-postgres';
/** The embedded data directory is in use by another process. */
export { EmbeddedDatabaseLockedError } from './database/database.errors';

// ---- entities ----

/** Marks an entity as AI-capable (entity type, migration repository) and reads that marking back. */
export { AICapable, getAICapableOptions, type AICapableOptions } from './entity/ai-capable.decorator';
/** An entity type's configuration from `ai-entity-config.yml`. */
export type { AiEntityConfig, EmbeddableField } from './entity/ai-entity-config.interface';
/** `ai-entity-config.yml` and the entities disagree (thrown at startup, naming file, type and field). */
export { AiEntityConfigError } from './entity/entity-config.errors';

// ---- embedding ----

/** The embedding provider injected under {@link EMBEDDING_PROVIDER}, and the token itself. */
export { EMBEDDING_PROVIDER } from './ai-core.constants';
/** What a custom embedding provider implements (`embedding: { provider: 'custom', useClass }`). */
export type {
  EmbeddingBatchApi,
  EmbeddingBatchRequest,
  EmbeddingBatchResult,
  EmbeddingBatchState,
  EmbeddingBatchStatus,
  EmbeddingProvider,
  EmbeddingResult,
  RateLimitHints,
} from './embedding/embedding-provider.interface';
/** Errors of the embedding provider (rate limit, exhausted quota, rejected input, outage). */
export {
  EmbeddingProviderError,
  EmbeddingProviderUnavailableError,
  EmbeddingQuotaExceededError,
  EmbeddingRateLimitError,
} from './embedding/embedding.errors';
/** Embeds texts through the configured provider, within the shared rate limit, with retries. */
export {
  EmbeddingService,
  type EmbedDeferral,
  type EmbedOutcome,
  type EmbeddingServiceOptions,
  type EmbedTextsOptions,
  type EmbedTextsResult,
} from './embedding/embedding.service';
/** Every provider request's outcome and duration, for metrics. */
export { EmbeddingRequestEvents, type EmbeddingRequestEvent, type EmbeddingRequestOutcome } from './embedding/embedding-request.events';
/** What embedding an input cost: its share of requests and of the tokens billed. */
export type { EmbeddingUsage } from './embedding/embedding-usage';
/** How the OpenAI provider counts tokens (`cl100k_base` via gpt-tokenizer, or the byte estimate). */
export type { OpenAiTokenizer } from './embedding/openai-tokenizer';
/** Which lane of the shared rate limiter a request takes (interactive requests go first). */
export type { ProviderLimiterSnapshot, ProviderRequestLane } from './embedding/provider-rate-limiter';
/** The built-in providers: local feature hashing (no API key) and OpenAI-compatible endpoints. */
export { HashingEmbeddingProvider } from './embedding/hashing-embedding.provider';
export { OpenAiEmbeddingProvider } from './embedding/openai-embedding.provider';

// ---- metering ----

/** Provider usage and cost per day, scope (live, backfill, search) and model; prices from `pricing`. */
export { ProviderUsageService, BATCH_PRICE_FACTOR, ProviderUsageRecord } from './usage';
export type { ModelUsage, ProviderUsageQuery, ProviderUsageTotal, UsagePricing, UsageScope } from './usage';

// ---- Batch API backfills ----

/** Provider batches of `mode: 'batch'` backfills: support, an owner's batches, cancelling them. */
export { EmbeddingBatchService, EmbeddingBatchRecord, EmbeddingBatchItemRecord } from './batch';
export type { EmbeddingBatchRowStatus, OwnerBatchSummary } from './batch';

// ---- the indexing queue ----

/** Enqueue indexing work (in the caller's transaction), queue statistics, dead letters and their retry. */
export { IndexingQueueService } from './queue/indexing-queue.service';
export { IndexingQueueError } from './queue/indexing-queue.errors';
export {
  IndexingPriority,
  type DeadLetter,
  type DeadLetterGroup,
  type DeadLetterReason,
  type IndexingLeaseOwner,
  type IndexingQueueDepth,
  type IndexingQueueStats,
  type IndexingRequest,
} from './queue/indexing-request.interface';
/** Types of the queue's owner-scoped operations (used by libraries that tag items with an owner). */
export type { IndexingInsertGate, IndexingItemPacing, NewOwnedItems, NewOwnedItemsResult } from './queue/owned-items.interface';

// ---- search and maintenance ----

/** Semantic search over an entity type's vectors. */
export { AiSearchService } from './search/ai-search.service';
export { AiSearchRequestError } from './search/ai-search.errors';
export type { AiSearchRequest, AiSearchResult } from './search/ai-search.interface';
/** Removes an entity type's vectors and queue items (instead of deleting from the library's tables by hand). */
export { AiIndexPurgeService, AiIndexPurgeError, type AiIndexPurgeResult } from './purge';

// Index generations: model and field changes built beside the serving index, gate, cutover, rollback.
export { IndexGenerationService, type GenerationGateOptions, type GenerationSwitch } from './generation/index-generation.service';
export { IndexGeneration } from './generation/index-generation.entity';
export { IndexAlias } from './generation/index-alias.entity';
export { IndexGenerationState, MAINTAINED_GENERATION_STATES } from './generation/index-generation-state.enum';
export {
  IndexGenerationError,
  GenerationNotFoundError,
  GenerationStateError,
  GenerationGateError,
  GenerationProviderMissingError,
} from './generation/index-generation.errors';
export type {
  GenerationCoverage,
  GenerationQualityReport,
  GoldenQuery,
  GoldenQueryResult,
} from './generation/generation-quality.interface';
export type { GenerationTextDefinition, GenerationDefinition, GenerationSpace } from './generation/generation-definition';
export { loadGoldenQueries, parseGoldenQueries, MAX_GOLDEN_QUERIES } from './generation/golden-queries.loader';

// ---- text that PostgreSQL can store ----

/** Checks for text PostgreSQL cannot store (NUL, unpaired surrogates), with messages naming the field. */
export * from './common';
