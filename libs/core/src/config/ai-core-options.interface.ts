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
  /** Per-request timeout in ms. Default 60,000. */
  timeoutMs?: number;
  /** Most inputs per request. Default 2048 (OpenAI's cap). */
  maxInputsPerRequest?: number;
  /** Most tokens per request, all inputs together. Default 300,000 (OpenAI's cap). */
  maxTokensPerRequest?: number;
  /** Most tokens per input. Default 8191. */
  maxTokensPerInput?: number;
}

/** Bring your own provider: a class or a factory, resolved inside the core module (may inject its providers). */
export interface CustomEmbeddingOptions {
  provider: 'custom';
  useClass?: Type<EmbeddingProvider>;
  useFactory?: FactoryProvider<EmbeddingProvider>['useFactory'];
  inject?: FactoryProvider['inject'];
}

export type EmbeddingOptions = HashingEmbeddingOptions | OpenAiEmbeddingOptions | CustomEmbeddingOptions;

/** Provider-level limits shared by live indexing and backfills, per app instance. */
export interface RateLimitOptions {
  /** Requests per minute to the embedding provider; 0 or absent = unlimited. */
  requestsPerMinute?: number;
  /** Estimated tokens per minute to the embedding provider; 0 or absent = unlimited. */
  tokensPerMinute?: number;
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
   * Share (0..1) of the loops kept for live (HIGH priority) work: they never claim backfill items, so live
   * writes are indexed promptly even while a large backfill runs. Default 0 (every loop takes HIGH first,
   * then anything); 1 makes an instance serve live traffic only.
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
  /** Enqueue indexing work when `@AICapable` entities are written through TypeORM. Default true. */
  liveIndexing?: boolean;
}

/** Extra `imports` for `forRootAsync`. */
export type AiCoreModuleImports = ModuleMetadata['imports'];
