/**
 * @ai-infrastructure/core/internal — what the sibling packages (`@ai-infrastructure/migration-core`,
 * `@ai-infrastructure/web`) and this repository's tests and benchmarks share with core beyond its public
 * API, the way `@nestjs/bull` shares its internals through `@nestjs/bull-shared`.
 *
 * Not for applications: nothing here is covered by semantic versioning. It changes together with the
 * sibling packages, which is why they depend on the same version of core. An application that needs one of
 * these should ask for a public API instead.
 */

// ---- injection tokens and resolved options ----

/** Injection tokens of the resolved options, the DataSource the core uses, and its vector store. */
export { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE, VECTOR_STORE } from './ai-core.constants';
/** AiCoreModule options validated and with every default filled in. */
export { resolveAiCoreOptions, type ResolvedAiCoreOptions, type ResolvedGenerationOptions, type ResolvedSearchOptions } from './config/ai-core-options.resolver';

// ---- helpers shared by the packages ----

/** Adding up provider usage shares (the migration runner sums a job's with them). */
export { addUsage, emptyUsage } from './embedding/embedding-usage';

/** Reading TypeORM's `query()` answers (rows, or `[rows, affected]` for UPDATE/DELETE). */
export { affectedCount, returnedRows } from './common/query-result';
/** Whether a text is a uuid. */
export { isUuid } from './common/uuid';
/** An in-process signal that wakes idle polling loops early. */
export { WakeupSignal } from './common/wakeup-signal';
/** Listeners of one kind of event, called synchronously (EmbeddingRequestEvents, MigrationJobEvents). */
export { SyncEvents } from './common/sync-events';

// ---- entities: configuration, ids, pages ----

/** The AI-capable entity types of the application, resolved at startup. */
export { AiEntityRegistry, type AiEntityDescriptor } from './entity/ai-entity-registry.service';
/** The repository class named by `@AICapable({ migrationRepository })` (a `forwardRef` resolved). */
export { resolveMigrationRepository } from './entity/ai-capable.decorator';
/** Reading and parsing `ai-entity-config.yml`. */
export { loadAiEntityConfig, parseAiEntityConfig } from './entity/ai-entity-config.loader';
/** The embedded text, its content hash and the metadata of an entity row. */
export { buildEntityText, computeContentHash, extractMetadata } from './entity/entity-text.builder';
/** Entity ids in their canonical text form. */
export { describeEntityIdKind, normalizeEntityId, type EntityIdKind } from './entity/entity-id';
/** Keyset pages of an entity table with each row's current and stored content hash (backfills). */
export { EntityPageReader, type EntityPageFilters, type EntityPageRow } from './entity/entity-page.reader';

// ---- the indexing pipeline ----

/** Extension points of the pipeline: final outcomes (in the workers' transaction), quota and outage events. */
export {
  IndexingHooks,
  type IndexingOutcome,
  type IndexingOutcomeListener,
  type IndexingRequeue,
  type IndexingRequeueListener,
  type IndexingResult,
  type ProviderUnavailableListener,
  type QuotaExceededListener,
  type OwnerUsage,
  type UsageAdmissionCheck,
  type UsageAdmissionRequest,
  type BudgetExceededListener,
} from './queue/indexing-hooks';
/** The queue's row, and the test for its unique violation of pending items. */
export { IndexingQueueItem, type IndexingItemStatus } from './queue/indexing-queue-item.entity';
export { isPendingTwinConflict } from './queue/indexing-queue.service';
/** The indexing workers and the gate that lets live work take the database first. */
export { IndexingWorkerService } from './worker/indexing-worker.service';
export { LiveWorkGate } from './worker/live-work.gate';
/** The provider-wide rate limiter and the token estimate used for dry runs. */
export { ProviderRateLimiter } from './embedding/provider-rate-limiter';
export { estimateTokens } from './embedding/token-estimate';
export { DEFAULT_REQUEST_TIMEOUT_MS } from './embedding/embedding.service';

// ---- the vector store (not a plug-in point: docs/adr/0004-vector-store-not-a-plug-in-point.md) ----

/** The pgvector store and what it reads and writes. */
export { PgVectorStore, generationIndexName } from './vector-store/pgvector.store';
export type { PreparedVectorWrite, StoredVectorState, VectorRecord, VectorSearchHit, VectorSearchQuery, VectorStore } from './vector-store/vector-store.interface';
export { EmbeddingProviderRegistry } from './embedding/embedding-provider.registry';
export { IndexGenerationCatalog, type GenerationTarget } from './generation/index-generation.catalog';
export { IndexGenerationMaintenance } from './generation/index-generation.maintenance';
export { definitionHash, describeDefinition, spaceKey, textDefinitionOf } from './generation/generation-definition';
/** The vector table's row and the name of its HNSW index. */
export { SearchableEntityRecord, SEARCHABLE_ENTITY_HNSW_INDEX } from './vector-store/searchable-entity.entity';
/** pgvector's binary encoding of a vector. */
export { encodeVector } from './vector-store/vector-codec';
