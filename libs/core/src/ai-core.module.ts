import { Global, Module, type Provider } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { DataSource } from 'typeorm';
import { AiCoreBootstrap } from './ai-core.bootstrap';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE, EMBEDDING_PROVIDER, VECTOR_STORE } from './ai-core.constants';
import {
  AI_CORE_ASYNC_OPTIONS_TYPE,
  AI_CORE_MODULE_OPTIONS,
  AI_CORE_OPTIONS_TYPE,
  AiCoreConfigurableModule,
} from './ai-core.module-definition';
import type { AiCoreModuleOptions, EmbeddingOptions } from './config/ai-core-options.interface';
import { EmbeddingProviderRegistry } from './embedding/embedding-provider.registry';
import { IndexGenerationCatalog } from './generation/index-generation.catalog';
import { IndexGenerationMaintenance } from './generation/index-generation.maintenance';
import { IndexGenerationService } from './generation/index-generation.service';
import { resolveAiCoreOptions, type ResolvedAiCoreOptions } from './config/ai-core-options.resolver';
import type { EmbeddingProvider } from './embedding/embedding-provider.interface';
import { EmbeddingService } from './embedding/embedding.service';
import { EmbeddingRequestEvents } from './embedding/embedding-request.events';
import { HashingEmbeddingProvider } from './embedding/hashing-embedding.provider';
import { OpenAiEmbeddingProvider } from './embedding/openai-embedding.provider';
import { ProviderCapacityLeases } from './embedding/provider-capacity.leases';
import { providerCapacityKey } from './embedding/provider-capacity.key';
import { ProviderCapacityStore } from './embedding/provider-capacity.store';
import { ProviderRateLimiter } from './embedding/provider-rate-limiter';
import { AiEntityRegistry } from './entity/ai-entity-registry.service';
import { EntityPageReader } from './entity/entity-page.reader';
import { EntitySnapshotCache } from './entity/entity-snapshot.cache';
import { AiIndexPurgeService } from './purge/ai-index-purge.service';
import { IndexingHooks } from './queue/indexing-hooks';
import { IndexingQueueService } from './queue/indexing-queue.service';
import { IndexingWakeup } from './queue/indexing-wakeup';
import { AiSearchService } from './search/ai-search.service';
import { ProviderUsageService } from './usage/provider-usage.service';
import { PgVectorStore } from './vector-store/pgvector.store';
import { IndexingWorkerService } from './worker/indexing-worker.service';
import { EmbeddingBatchService } from './batch/embedding-batch.service';
import { EmbeddingBatchWorker } from './batch/embedding-batch.worker';
import { LiveWorkGate } from './worker/live-work.gate';

async function createEmbeddingProvider(options: ResolvedAiCoreOptions, moduleRef: ModuleRef): Promise<EmbeddingProvider> {
  return createProvider(options.embedding, moduleRef);
}

async function createProvider(embedding: EmbeddingOptions, moduleRef: ModuleRef): Promise<EmbeddingProvider> {
  switch (embedding.provider) {
    case 'hashing':
      return new HashingEmbeddingProvider(embedding.dimensions ?? 384);
    case 'openai':
      return new OpenAiEmbeddingProvider(embedding);
    case 'custom':
      if (embedding.useClass) return moduleRef.create(embedding.useClass);
      return embedding.useFactory!(
        ...(await Promise.all((embedding.inject ?? []).map((token) => moduleRef.get(token as never, { strict: false })))),
      );
  }
}

/**
 * The rate limiter of one provider: in `rateLimit.scope: 'cluster'` it leases from the shared bucket of the
 * provider's account, otherwise it limits this instance on its own.
 */
function createRateLimiter(options: ResolvedAiCoreOptions, embedding: EmbeddingOptions, provider: EmbeddingProvider, dataSource: DataSource): ProviderRateLimiter {
  if (options.rateLimit.scope !== 'cluster') return new ProviderRateLimiter(options.rateLimit);
  const leases = new ProviderCapacityLeases(new ProviderCapacityStore(dataSource), providerCapacityKey(provider, embedding), options.rateLimit);
  return new ProviderRateLimiter(options.rateLimit, leases);
}

const providers: Provider[] = [
  {
    provide: AI_CORE_RESOLVED_OPTIONS,
    useFactory: (options: AiCoreModuleOptions) => resolveAiCoreOptions(options),
    inject: [AI_CORE_MODULE_OPTIONS],
  },
  { provide: AI_DATA_SOURCE, useExisting: DataSource },
  { provide: EMBEDDING_PROVIDER, useFactory: createEmbeddingProvider, inject: [AI_CORE_RESOLVED_OPTIONS, ModuleRef] },
  {
    provide: ProviderRateLimiter,
    useFactory: (options: ResolvedAiCoreOptions, provider: EmbeddingProvider, dataSource: DataSource) =>
      createRateLimiter(options, options.embedding, provider, dataSource),
    inject: [AI_CORE_RESOLVED_OPTIONS, EMBEDDING_PROVIDER, AI_DATA_SOURCE],
  },
  { provide: EmbeddingRequestEvents, useFactory: () => new EmbeddingRequestEvents() },
  {
    provide: EmbeddingService,
    useFactory: (provider: EmbeddingProvider, limiter: ProviderRateLimiter, options: ResolvedAiCoreOptions, events: EmbeddingRequestEvents) =>
      new EmbeddingService(provider, limiter, embeddingServiceOptions(options, options.embedding, events)),
    inject: [EMBEDDING_PROVIDER, ProviderRateLimiter, AI_CORE_RESOLVED_OPTIONS, EmbeddingRequestEvents],
  },
  {
    // Each retained provider gets its own limiter: the rate limits are the provider account's.
    provide: EmbeddingProviderRegistry,
    useFactory: async (current: EmbeddingService, options: ResolvedAiCoreOptions, moduleRef: ModuleRef, dataSource: DataSource, events: EmbeddingRequestEvents) => {
      const retained = await Promise.all(
        options.retainedEmbeddings.map(async (embedding) => {
          const provider = await createProvider(embedding, moduleRef);
          return new EmbeddingService(provider, createRateLimiter(options, embedding, provider, dataSource), embeddingServiceOptions(options, embedding, events));
        }),
      );
      return new EmbeddingProviderRegistry(current, retained);
    },
    inject: [EmbeddingService, AI_CORE_RESOLVED_OPTIONS, ModuleRef, AI_DATA_SOURCE, EmbeddingRequestEvents],
  },
  IndexGenerationCatalog,
  IndexGenerationService,
  IndexGenerationMaintenance,
  PgVectorStore,
  { provide: VECTOR_STORE, useExisting: PgVectorStore },
  AiEntityRegistry,
  EntitySnapshotCache,
  EntityPageReader,
  IndexingWakeup,
  IndexingHooks,
  IndexingQueueService,
  IndexingWorkerService,
  LiveWorkGate,
  AiSearchService,
  AiIndexPurgeService,
  ProviderUsageService,
  EmbeddingBatchService,
  EmbeddingBatchWorker,
  AiCoreBootstrap,
];

function embeddingServiceOptions(options: ResolvedAiCoreOptions, embedding: EmbeddingOptions, events: EmbeddingRequestEvents) {
  return {
    events,
    overlongInput: options.overlongInput,
    quotaBackoffMs: options.rateLimit.quotaBackoffMs,
    retry: options.providerRetry,
    requestTimeoutMs: embedding.provider === 'openai' ? (embedding.timeoutMs ?? 30_000) : undefined,
  };
}

const exported = [
  AI_CORE_RESOLVED_OPTIONS,
  AI_DATA_SOURCE,
  EMBEDDING_PROVIDER,
  VECTOR_STORE,
  ProviderRateLimiter,
  EmbeddingService,
  EmbeddingRequestEvents,
  EmbeddingProviderRegistry,
  IndexGenerationCatalog,
  IndexGenerationService,
  IndexGenerationMaintenance,
  PgVectorStore,
  AiEntityRegistry,
  EntityPageReader,
  IndexingHooks,
  IndexingQueueService,
  IndexingWorkerService,
  LiveWorkGate,
  AiSearchService,
  AiIndexPurgeService,
  ProviderUsageService,
  EmbeddingBatchService,
];

/**
 * The AI core: entity configuration, embedding provider, pgvector store, indexing queue and workers, live
 * indexing and semantic search. Global: import it once in the root module, after (or beside)
 * `TypeOrmModule.forRoot`, whose DataSource must list {@link AI_CORE_ENTITIES} and
 * {@link AI_CORE_MIGRATIONS}.
 *
 * @example
 * ```ts
 * @Module({
 *   imports: [
 *     TypeOrmModule.forRoot({ type: 'postgres', url, entities: [Product, ...AI_CORE_ENTITIES],
 *       migrations: [...AI_CORE_MIGRATIONS], migrationsRun: true }),
 *     AiCoreModule.forRoot({ entityConfigPath: 'ai-entity-config.yml', embedding: { provider: 'hashing' } }),
 *   ],
 * })
 * export class AppModule {}
 * ```
 */
@Global()
@Module({ providers, exports: exported })
export class AiCoreModule extends AiCoreConfigurableModule {
  /** Configures the core with static options; invalid options fail at startup naming the key. */
  static override forRoot(options: typeof AI_CORE_OPTIONS_TYPE = {}) {
    resolveAiCoreOptions(options);
    return super.forRoot(options);
  }

  /** Configures the core from a factory, class or existing provider (`useFactory`/`useClass`/`useExisting`, `inject`, `imports`). */
  static override forRootAsync(options: typeof AI_CORE_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
