import type { OpenAiTokenizer } from '../embedding/openai-tokenizer';
import type { FactoryProvider, ModuleMetadata, Type } from '@nestjs/common';
import type { EmbeddingProvider } from '../embedding/embedding-provider.interface';

/** Local, offline, deterministic feature-hashing embeddings: lexical similarity for development, tests and demos. */
export interface HashingEmbeddingOptions {
  provider: 'hashing';
  /** Vector length. Default 384. */
  dimensions?: number;
}

/** Any OpenAI-compatible embeddings API (OpenAI, Azure OpenAI, Ollama, vLLM, TEI) through the official `openai` SDK. */
export interface OpenAiEmbeddingOptions {
  provider: 'openai';
  /** API key; Ollama and most local servers accept any non-empty string. */
  apiKey: string;
  /** Base URL, e.g. `http://localhost:11434/v1` for Ollama. Default: the SDK's (api.openai.com). */
  baseURL?: string;
  /** Model name, e.g. `text-embedding-3-small`. */
  model: string;
  /** Vector length the model returns (sent as `dimensions` when `sendDimensions` is true). */
  dimensions: number;
  /** Send `dimensions` in the request (text-embedding-3-* support it; many local servers reject it). Default false. */
  sendDimensions?: boolean;
  /**
   * Longest time one request may take, in ms. Default 30,000 (OpenAI answers a full 2048-input request in
   * a few seconds). Below this cap the timeout adapts: 4 times the slowest of the last 32 answers, at least
   * 5 s, so a hung request is given up after seconds; a request that timed out gets twice as long next time.
   */
  timeoutMs?: number;
  /** Most inputs per request. Default 2048 (OpenAI's cap). */
  maxInputsPerRequest?: number;
  /** Most tokens per request, all inputs together. Default 300,000 (OpenAI's cap). */
  maxTokensPerRequest?: number;
  /** Most tokens per input. Default 8191. */
  maxTokensPerInput?: number;
  /**
   * How tokens are counted for the per-input limit, the rate limiter, metering estimates and
   * `estimateMigration`. Default: `cl100k_base` (exact, via `gpt-tokenizer`) for OpenAI's embedding models,
   * `estimate` (`ceil(utf8 bytes / 3)`, high on purpose) for any other model, whose tokenizer is unknown.
   */
  tokenizer?: OpenAiTokenizer;
}

/** Bring your own provider: a class or a factory, resolved inside the core module (may inject its providers). */
export interface CustomEmbeddingOptions {
  provider: 'custom';
  useClass?: Type<EmbeddingProvider>;
  useFactory?: FactoryProvider<EmbeddingProvider>['useFactory'];
  inject?: FactoryProvider['inject'];
}

export type EmbeddingOptions = HashingEmbeddingOptions | OpenAiEmbeddingOptions | CustomEmbeddingOptions;

/**
 * Where the provider limits hold: `cluster` (the limits are the API key's, shared by every instance on the
 * same database through the `ai_provider_capacity` table) or `instance` (each process on its own).
 */
export type RateLimitScope = 'instance' | 'cluster';

/** Provider-level limits shared by live indexing, search and backfills. */
export interface RateLimitOptions {
  /** Requests per minute to the embedding provider; 0 or absent = unlimited. */
  requestsPerMinute?: number;
  /** Estimated tokens per minute to the embedding provider; 0 or absent = unlimited. */
  tokensPerMinute?: number;
  /**
   * What the two limits above count (docs/adr/0008-shared-provider-limits.md). Default `cluster`: they are
   * your API key's limits and hold for the sum of every instance that uses the same database, provider,
   * model and key — each instance leases small slices of a token bucket kept in `ai_provider_capacity`,
   * live indexing and searches keep a reserve a backfill cannot take, and a 429 seen by one instance holds
   * back all of them. `instance`: every process gets the full limits on its own (the behaviour of
   * 0.1.0; set the limits to the key's divided by the number of instances). Without limits there is nothing
   * to share and both behave alike.
   */
  scope?: RateLimitScope;
  /** After an exhausted quota (`insufficient_quota`), no provider request is made for this long, in ms. Default 60,000. */
  quotaBackoffMs?: number;
}

/** Indexing workers that drain the queue in this instance. */
export interface WorkerOptions {
  /** Run workers in this instance. Default true; set false for API-only instances. */
  enabled?: boolean;
  /** Parallel batch loops in this instance. Default 2. */
  concurrency?: number;
  /**
   * Extra loops, beside `concurrency`, that claim only live (HIGH priority) items, in batches of
   * `liveBatchSize`. While they run, the `concurrency` loops take backfill items only (and live items
   * when there is no backfill work), so a live write never waits behind a 1000-item backfill batch.
   * Default 1; 0 turns the reservation off (every loop then takes HIGH first, then anything).
   */
  liveConcurrency?: number;
  /** Items per batch of the live loops. Default 100. */
  liveBatchSize?: number;
  /**
   * Items a batch writes per transaction once embedded. Default 200: a 1000-item backfill batch still makes
   * one embedding request but commits in 5 transactions, so a live write waits at most one of them (on the
   * embedded database every connection shares one session).
   */
  commitChunkSize?: number;
  /**
   * Share (0..1) of the `concurrency` loops that also claim only live (HIGH priority) work. Default 0;
   * 1 makes an instance serve live traffic only. `liveConcurrency` is the usual way to reserve capacity.
   */
  liveShare?: number;
  /** Queue items claimed per batch. Default 1000 (larger batches amortise the per-batch statements; measured on PGlite: 0.28 of the insert ceiling at 500, 0.42 at 1000). */
  batchSize?: number;
  /** Idle poll interval in ms. Default 500. */
  pollIntervalMs?: number;
  /** Lease length in ms; a batch not completed or heartbeated within it is reclaimed. Default 60,000. */
  leaseMs?: number;
  /** Interval in ms between sweeps that reclaim expired leases. Default 15,000. */
  sweepIntervalMs?: number;
  /**
   * At shutdown, how long in ms provider requests already sent may take to answer before they are aborted.
   * Default 10,000. The provider bills a request once it has it, answered or not: waiting for the answer
   * and writing its vectors (instead of aborting and sending the same texts again after the restart) is
   * what keeps a deploy from paying twice. No new request is sent and no rate-limit wait or retry back-off
   * is sat out meanwhile; 0 aborts at once. Keep it below the platform's kill timeout (Kubernetes: 30 s).
   */
  shutdownGraceMs?: number;
}

/** Indexing queue behaviour. */
export interface QueueOptions {
  /** Attempts before an item is dead-lettered. Default 5. */
  maxRetries?: number;
  /** First backoff delay in ms (doubles per attempt, with full jitter). Default 1,000. */
  backoffBaseMs?: number;
  /** Largest backoff delay in ms. Default 300,000. */
  backoffMaxMs?: number;
}

/**
 * How transient provider failures (5xx, timeouts, connection resets, 429) are retried. They never use up
 * an item's attempts: a worker retries the request in-process with backoff for as long as the provider
 * answers other requests. When it has answered nothing but transient failures for `outagePauseMs`, the
 * items go back to the queue and backfill jobs pause with the reason (resume once the provider is back).
 */
export interface ProviderRetryOptions {
  /** First retry delay in ms (doubles per consecutive failure, with jitter). Default 500. */
  backoffBaseMs?: number;
  /** Largest retry delay in ms. Default 30,000. */
  backoffMaxMs?: number;
  /** Time in ms with nothing but transient failures after which the provider counts as down. Default 300,000. */
  outagePauseMs?: number;
}

/**
 * Options of {@link AiCoreModule}.
 *
 * @example
 * ```ts
 * AiCoreModule.forRoot({
 *   entityConfigPath: 'ai-entity-config.yml',
 *   embedding: { provider: 'hashing' },
 * })
 * ```
 */
export interface AiCoreModuleOptions {
  /** Path of `ai-entity-config.yml` (relative to the working directory). Default `ai-entity-config.yml`. */
  entityConfigPath?: string;
  /** The embedding provider. Default `{ provider: 'hashing' }`. */
  embedding?: EmbeddingOptions;
  /** What to do with an input longer than the provider's per-input token limit. Default `truncate`. */
  overlongInput?: 'truncate' | 'fail';
  rateLimit?: RateLimitOptions;
  worker?: WorkerOptions;
  queue?: QueueOptions;
  /** Retries of transient provider failures and the outage time after which backfills pause. */
  providerRetry?: ProviderRetryOptions;
  /** Enqueue indexing work when `@AICapable` entities are written through TypeORM. Default true. */
  liveIndexing?: boolean;
  /** Vector search on PostgreSQL: the HNSW index's query and build parameters. */
  search?: SearchOptions;
  /**
   * Providers that are no longer `embedding` but still embed for an index generation that serves search or
   * is kept for rollback (the previous model while a new one builds). A generation whose provider is in
   * neither place cannot be kept current: startup fails when it serves. Remove an entry once its
   * generations are retired.
   *
   * @example
   * ```ts
   * // Moving from the hashing provider to OpenAI: search keeps using the old space until the cutover.
   * embedding: { provider: 'openai', apiKey, model: 'text-embedding-3-small', dimensions: 1536 },
   * retainedEmbeddings: [{ provider: 'hashing' }],
   * ```
   */
  retainedEmbeddings?: EmbeddingOptions[];
  /** Index generations: what a change of model or embeddable fields does, and how long old generations stay. */
  generations?: GenerationOptions;
  /**
   * Price of each embedding model in USD per 1M input tokens, for the cost that metering records (jobs,
   * live indexing, search) and estimates state. A model without a price costs 0 (tokens are still counted).
   *
   * @example
   * ```ts
   * pricing: { 'text-embedding-3-small': 0.02, 'text-embedding-3-large': 0.13 }
   * ```
   */
  pricing?: Record<string, number>;
  /** Backfills through the provider's Batch API (migration jobs started with `mode: 'batch'`). */
  batch?: BatchOptions;
}

/**
 * How backfill items of `mode: 'batch'` jobs go through the provider's Batch API (OpenAI: a JSONL file of
 * embeddings requests, processed within 24 hours at half the price). The limits default to OpenAI's
 * documented ones; lower them for another provider.
 */
export interface BatchOptions {
  /** Most embedding inputs in one batch (all its requests together). Default 50,000 (OpenAI's limit). */
  maxInputsPerBatch?: number;
  /** Most requests (lines) in one batch's input file. Default 50,000 (OpenAI's limit). */
  maxRequestsPerFile?: number;
  /** Largest input file in bytes. Default 200 MB (OpenAI's limit); files are kept 5 % below it. */
  maxFileBytes?: number;
  /** Batches in flight at the provider at once, over all instances. Default 4. */
  maxInFlight?: number;
  /** How often a batch in flight is asked for its status, in ms. Default 30,000. */
  pollIntervalMs?: number;
  /**
   * How long items wait to fill a batch before a smaller one is sent, in ms: a batch is sent when
   * `maxInputsPerBatch` items are ready or the oldest ready item waited this long. Default 10,000.
   */
  gatherMs?: number;
  /**
   * How long a batch may stay in the state "being submitted" before another instance treats its submitter
   * as crashed: it then adopts the batch if the provider has it, or puts its items back. Default 600,000.
   */
  submitTimeoutMs?: number;
}

/**
 * Index generations (docs/migration-guide.md, "Change the embedding model"). A change of the embedding
 * model, its dimensions or an entity type's embeddable fields never touches the generation that serves
 * search: the new configuration is built beside it and served after a cutover.
 */
export interface GenerationOptions {
  /**
   * At startup, when an entity type's configuration differs from its serving generation's:
   * - `build` (default): record it as a BUILDING generation at once, so live writes reach both from then
   *   on; its backfill is a migration job (the migration module starts it when `autoBuild` is on);
   * - `manual`: log the difference and leave it to an explicit `createGeneration` call (REST:
   *   `POST /api/ai/migration/generations`), e.g. to choose when the provider spend starts.
   */
  onConfigChange?: 'build' | 'manual';
  /**
   * How long a generation that stopped serving is kept current for rollback before it is retired (rows and
   * index deleted), in ms. Default 7 days; 0 keeps it until retired on demand.
   */
  retentionMs?: number;
  /** Session settings of the HNSW index build after a generation's load (PostgreSQL only). Default: the server's. */
  indexBuild?: {
    /** `maintenance_work_mem` for the build, e.g. `'1GB'`: a build that fits in memory is several times faster. */
    maintenanceWorkMem?: string;
    /** `max_parallel_maintenance_workers` for the build (0 builds in one process). */
    parallelWorkers?: number;
  };
  /** How often each instance looks for index builds to finish or resume and generations to retire, in ms. Default 30,000. */
  sweepIntervalMs?: number;
}

/** Extra `imports` for `forRootAsync`. */
export type AiCoreModuleImports = ModuleMetadata['imports'];

/**
 * Vector search on PostgreSQL (PGlite always scans exactly). The defaults come from `npm run bench:search`
 * at 100,000 products (docs/performance.md, "Search recall").
 */
export interface SearchOptions {
  /**
   * Least `hnsw.ef_search`: how many candidates the HNSW graph walk keeps. A search uses the larger of this
   * and twice its `limit`, at most 1000 (pgvector's maximum). More candidates find more of the true nearest
   * neighbours and cost latency: at 100K products 400 found 0.96–1.00 of the true top 10 for whole product
   * names and phrases where pgvector's default of 40 found 0.77–0.89, at about twice the latency. Default 400.
   */
  efSearch?: number;
  /**
   * `hnsw.max_scan_tuples`: most index tuples a filtered search visits while it looks for `limit` rows that
   * pass the filters. When it stops with fewer, the search is repeated as an exact scan. Lower values give
   * up sooner on filters that exclude the query's neighbourhood (2000 halved their p95 at 100K) but send
   * selective filters to the exact scan, whose cost grows with the table. Default 20,000 (pgvector's).
   */
  maxScanTuples?: number;
  /**
   * When the best hit the index finds scores (cosine similarity) below this, the search is repeated as an
   * exact scan of the entity type's rows: the graph walk did not reach the query's neighbourhood, which a
   * larger ef_search does not fix for an out-of-distribution query (a word only one product has). The exact
   * scan costs time in proportion to the rows (about 0.1 s per 100K rows on the benchmark machine), so only
   * such queries pay it, and an unnecessary one costs time, never recall. Default 0.5 with the `hashing`
   * provider (at 100K products the index's best hit for a one-word query scored 0.11–0.31, whole names and
   * phrases 0.69 or more); null (never) with other providers, whose similarity scale differs: choose it from
   * the scores your good queries get. null turns it off.
   */
  exactScanBelowScore?: number | null;
  /** Build parameters of the HNSW index; an index built with others is rebuilt at the next startup. */
  hnsw?: HnswBuildOptions;
}

/** Build parameters of the HNSW index (pgvector's `WITH (m = …, ef_construction = …)`). */
export interface HnswBuildOptions {
  /** Links per node in the graph. Default 16 (pgvector's default). */
  m?: number;
  /**
   * Candidates kept while the graph is built; at least `2 × m`. Default 64 (pgvector's default). Larger values
   * build a better graph (128 with ef_search 100 matched ef_search 400 on 64 at 100K) but slow down the build
   * and every vector write (128: a third fewer writes per second), and changing it rebuilds the index.
   */
  efConstruction?: number;
}
