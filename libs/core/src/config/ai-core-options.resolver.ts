import { OPENAI_TOKENIZERS } from '../embedding/openai-tokenizer';
import type { AiCoreModuleOptions, BatchOptions, EmbeddingOptions, GenerationOptions, RateLimitScope, SearchOptions } from './ai-core-options.interface';
import { AiCoreConfigurationError } from './ai-core.errors';

/** AiCoreModule options with every default filled in. */
export interface ResolvedAiCoreOptions {
  entityConfigPath: string;
  embedding: EmbeddingOptions;
  overlongInput: 'truncate' | 'fail';
  rateLimit: { requestsPerMinute: number; tokensPerMinute: number; scope: RateLimitScope; quotaBackoffMs: number };
  worker: {
    enabled: boolean;
    concurrency: number;
    liveConcurrency: number;
    liveBatchSize: number;
    commitChunkSize: number;
    liveShare: number;
    batchSize: number;
    pollIntervalMs: number;
    leaseMs: number;
    sweepIntervalMs: number;
    shutdownGraceMs: number;
  };
  queue: { maxRetries: number; backoffBaseMs: number; backoffMaxMs: number };
  providerRetry: { backoffBaseMs: number; backoffMaxMs: number; outagePauseMs: number };
  liveIndexing: boolean;
  search: ResolvedSearchOptions;
  retainedEmbeddings: EmbeddingOptions[];
  generations: ResolvedGenerationOptions;
  /** USD per 1M tokens by model name. */
  pricing: Record<string, number>;
  batch: Required<BatchOptions>;
}

/** {@link GenerationOptions} with every default filled in. */
export interface ResolvedGenerationOptions {
  onConfigChange: 'build' | 'manual';
  retentionMs: number;
  indexBuild: { maintenanceWorkMem: string | null; parallelWorkers: number | null };
  sweepIntervalMs: number;
}

type Bounds = { min: number; max: number };

function integer(key: string, value: unknown, fallback: number, { min, max }: Bounds): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "${key}" is ${JSON.stringify(value)}; it must be an integer from ${min} to ${max}` +
        ` (default ${fallback}).`,
    );
  }
  return value;
}

function share(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "worker.liveShare" is ${JSON.stringify(value)}; it must be a number from 0 to 1 (the share of worker loops kept for live work; default 0).`,
    );
  }
  return value;
}

function boolean(key: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "${key}" is ${JSON.stringify(value)}; it must be true or false (default ${fallback}).`,
    );
  }
  return value;
}

/** The values `rateLimit.scope` accepts, in the order the error message names them. */
const RATE_LIMIT_SCOPES: readonly RateLimitScope[] = ['cluster', 'instance'];

function rateLimitScope(value: unknown): RateLimitScope {
  if (value === undefined) return 'cluster';
  if (!RATE_LIMIT_SCOPES.includes(value as RateLimitScope)) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "rateLimit.scope" is ${JSON.stringify(value)}; use "cluster" (default: the limits are the API key's, ` +
        `shared by every instance on this database) or "instance" (each process gets the full limits on its own).`,
    );
  }
  return value as RateLimitScope;
}

function validateEmbedding(embedding: EmbeddingOptions, key = 'embedding'): EmbeddingOptions {
  try {
    return validateEmbeddingAt(embedding);
  } catch (error) {
    // The same checks name the entry of retainedEmbeddings they are about.
    if (key === 'embedding' || !(error instanceof AiCoreConfigurationError)) throw error;
    throw new AiCoreConfigurationError(error.message.replace(/"embedding(\.|")/g, `"${key}$1`));
  }
}

function validateEmbeddingAt(embedding: EmbeddingOptions): EmbeddingOptions {
  if (typeof embedding !== 'object' || embedding === null) {
    throw new AiCoreConfigurationError(`AiCoreModule option "embedding" is ${JSON.stringify(embedding)}; it must be an object with a "provider".`);
  }
  const provider = (embedding as { provider?: unknown }).provider;
  switch (provider) {
    case 'hashing':
      integer('embedding.dimensions', embedding.provider === 'hashing' ? embedding.dimensions : undefined, 384, {
        min: 2,
        max: 16_000,
      });
      return embedding;
    case 'openai': {
      const o = embedding as Extract<EmbeddingOptions, { provider: 'openai' }>;
      if (typeof o.apiKey !== 'string' || o.apiKey.length === 0) {
        throw new AiCoreConfigurationError(
          'AiCoreModule option "embedding.apiKey" is missing; set it (e.g. from OPENAI_API_KEY). Local servers such as Ollama accept any non-empty value.',
        );
      }
      if (typeof o.model !== 'string' || o.model.length === 0) {
        throw new AiCoreConfigurationError(
          'AiCoreModule option "embedding.model" is missing; set the embedding model name, e.g. "text-embedding-3-small".',
        );
      }
      integer('embedding.dimensions', o.dimensions ?? null, 0, { min: 1, max: 16_000 });
      if (o.baseURL !== undefined) {
        try {
          new URL(o.baseURL);
        } catch {
          throw new AiCoreConfigurationError(
            `AiCoreModule option "embedding.baseURL" is ${JSON.stringify(o.baseURL)}, which is not a URL; use e.g. "http://localhost:11434/v1".`,
          );
        }
      }
      integer('embedding.timeoutMs', o.timeoutMs, 30_000, { min: 100, max: 600_000 });
      integer('embedding.maxInputsPerRequest', o.maxInputsPerRequest, 2048, { min: 1, max: 2048 });
      integer('embedding.maxTokensPerRequest', o.maxTokensPerRequest, 300_000, { min: 1, max: 10_000_000 });
      integer('embedding.maxTokensPerInput', o.maxTokensPerInput, 8191, { min: 1, max: 1_000_000 });
      if (o.tokenizer !== undefined && !OPENAI_TOKENIZERS.includes(o.tokenizer)) {
        throw new AiCoreConfigurationError(
          `AiCoreModule option "embedding.tokenizer" is ${JSON.stringify(o.tokenizer)}; use ${OPENAI_TOKENIZERS.map((t) => `"${t}"`).join(', ')} ` +
            '(or leave it unset: cl100k_base for OpenAI embedding models, estimate otherwise).',
        );
      }
      return embedding;
    }
    case 'custom': {
      const c = embedding as Extract<EmbeddingOptions, { provider: 'custom' }>;
      if (!c.useClass === !c.useFactory) {
        throw new AiCoreConfigurationError(
          'AiCoreModule option "embedding" with provider "custom" needs exactly one of "useClass" or "useFactory".',
        );
      }
      return embedding;
    }
    default:
      throw new AiCoreConfigurationError(
        `AiCoreModule option "embedding.provider" is ${JSON.stringify(provider)}; use "hashing", "openai" or "custom".`,
      );
  }
}

/** Validates AiCoreModule options and fills in defaults; throws {@link AiCoreConfigurationError} naming the bad key. */
export function resolveAiCoreOptions(options: AiCoreModuleOptions = {}): ResolvedAiCoreOptions {
  if (options.overlongInput !== undefined && options.overlongInput !== 'truncate' && options.overlongInput !== 'fail') {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "overlongInput" is ${JSON.stringify(options.overlongInput)}; use "truncate" or "fail".`,
    );
  }
  if (options.entityConfigPath !== undefined && (typeof options.entityConfigPath !== 'string' || !options.entityConfigPath)) {
    throw new AiCoreConfigurationError(
      'AiCoreModule option "entityConfigPath" must be a non-empty path to ai-entity-config.yml.',
    );
  }
  const worker = options.worker ?? {};
  const queue = options.queue ?? {};
  const rateLimit = options.rateLimit ?? {};
  const providerRetry = options.providerRetry ?? {};
  const leaseMs = integer('worker.leaseMs', worker.leaseMs, 60_000, { min: 1_000, max: 3_600_000 });
  const resolved: ResolvedAiCoreOptions = {
    entityConfigPath: options.entityConfigPath ?? 'ai-entity-config.yml',
    embedding: validateEmbedding(options.embedding ?? { provider: 'hashing' }),
    overlongInput: options.overlongInput ?? 'truncate',
    rateLimit: {
      requestsPerMinute: integer('rateLimit.requestsPerMinute', rateLimit.requestsPerMinute, 0, { min: 0, max: 10_000_000 }),
      tokensPerMinute: integer('rateLimit.tokensPerMinute', rateLimit.tokensPerMinute, 0, { min: 0, max: 1_000_000_000 }),
      scope: rateLimitScope(rateLimit.scope),
      quotaBackoffMs: integer('rateLimit.quotaBackoffMs', rateLimit.quotaBackoffMs, 60_000, { min: 0, max: 86_400_000 }),
    },
    worker: {
      enabled: boolean('worker.enabled', worker.enabled, true),
      concurrency: integer('worker.concurrency', worker.concurrency, 2, { min: 1, max: 64 }),
      liveConcurrency: integer('worker.liveConcurrency', worker.liveConcurrency, 1, { min: 0, max: 16 }),
      liveBatchSize: integer('worker.liveBatchSize', worker.liveBatchSize, 100, { min: 1, max: 5_000 }),
      commitChunkSize: integer('worker.commitChunkSize', worker.commitChunkSize, 200, { min: 1, max: 5_000 }),
      liveShare: share(worker.liveShare),
      batchSize: integer('worker.batchSize', worker.batchSize, 1000, { min: 1, max: 5_000 }),
      pollIntervalMs: integer('worker.pollIntervalMs', worker.pollIntervalMs, 500, { min: 10, max: 60_000 }),
      leaseMs,
      sweepIntervalMs: integer('worker.sweepIntervalMs', worker.sweepIntervalMs, 15_000, { min: 100, max: 3_600_000 }),
      shutdownGraceMs: integer('worker.shutdownGraceMs', worker.shutdownGraceMs, 10_000, { min: 0, max: 600_000 }),
    },
    queue: {
      maxRetries: integer('queue.maxRetries', queue.maxRetries, 5, { min: 1, max: 100 }),
      backoffBaseMs: integer('queue.backoffBaseMs', queue.backoffBaseMs, 1_000, { min: 0, max: 3_600_000 }),
      backoffMaxMs: integer('queue.backoffMaxMs', queue.backoffMaxMs, 300_000, { min: 0, max: 86_400_000 }),
    },
    providerRetry: {
      backoffBaseMs: integer('providerRetry.backoffBaseMs', providerRetry.backoffBaseMs, 500, { min: 0, max: 3_600_000 }),
      backoffMaxMs: integer('providerRetry.backoffMaxMs', providerRetry.backoffMaxMs, 30_000, { min: 0, max: 3_600_000 }),
      outagePauseMs: integer('providerRetry.outagePauseMs', providerRetry.outagePauseMs, 300_000, { min: 0, max: 86_400_000 }),
    },
    liveIndexing: boolean('liveIndexing', options.liveIndexing, true),
    search: resolveSearch(options.search, (options.embedding ?? { provider: 'hashing' }).provider),
    retainedEmbeddings: resolveRetained(options.retainedEmbeddings),
    generations: resolveGenerations(options.generations),
    pricing: resolvePricing(options.pricing),
    batch: resolveBatch(options.batch ?? {}),
  };
  return resolved;
}

function resolveBatch(batch: BatchOptions): Required<BatchOptions> {
  return {
    maxInputsPerBatch: integer('batch.maxInputsPerBatch', batch.maxInputsPerBatch, 50_000, { min: 1, max: 1_000_000 }),
    maxRequestsPerFile: integer('batch.maxRequestsPerFile', batch.maxRequestsPerFile, 50_000, { min: 1, max: 1_000_000 }),
    maxFileBytes: integer('batch.maxFileBytes', batch.maxFileBytes, 200 * 1024 * 1024, { min: 1024, max: 10 * 1024 * 1024 * 1024 }),
    maxInFlight: integer('batch.maxInFlight', batch.maxInFlight, 4, { min: 1, max: 1_000 }),
    pollIntervalMs: integer('batch.pollIntervalMs', batch.pollIntervalMs, 30_000, { min: 10, max: 3_600_000 }),
    gatherMs: integer('batch.gatherMs', batch.gatherMs, 10_000, { min: 0, max: 3_600_000 }),
    submitTimeoutMs: integer('batch.submitTimeoutMs', batch.submitTimeoutMs, 600_000, { min: 100, max: 86_400_000 }),
  };
}

function resolvePricing(value: unknown): Record<string, number> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "pricing" is ${JSON.stringify(value)}; it must map model names to USD per 1M tokens, e.g. { "text-embedding-3-small": 0.02 }.`,
    );
  }
  const pricing: Record<string, number> = {};
  for (const [model, price] of Object.entries(value)) {
    if (typeof price !== 'number' || !Number.isFinite(price) || price < 0) {
      throw new AiCoreConfigurationError(
        `AiCoreModule option "pricing.${model}" is ${JSON.stringify(price)}; it must be a non-negative number of USD per 1M tokens.`,
      );
    }
    pricing[model] = price;
  }
  return pricing;
}

/** {@link SearchOptions} with every default filled in. */
export interface ResolvedSearchOptions {
  efSearch: number;
  maxScanTuples: number;
  /** null: never repeat a search as an exact scan because of a low best score. */
  exactScanBelowScore: number | null;
  hnsw: { m: number; efConstruction: number };
}

/**
 * Defaults measured by `npm run bench:search` at 100K products (docs/performance.md, "Search recall").
 * The exact-scan floor is a cosine similarity, so its default depends on the provider's scale: only the
 * local `hashing` provider's is known here (a one-word query is out of distribution for it).
 */
const SEARCH_DEFAULTS = { efSearch: 400, maxScanTuples: 20_000, hashingExactScanBelowScore: 0.5, m: 16, efConstruction: 64 };

/** pgvector's limits: `hnsw.ef_search` 1..1000, `m` 2..100, `ef_construction` 4..1000 and at least 2 × m. */
function resolveSearch(search: unknown, provider: unknown): ResolvedSearchOptions {
  const options = object('search', search) as SearchOptions;
  const hnsw = object('search.hnsw', options.hnsw) as NonNullable<SearchOptions['hnsw']>;
  const m = integer('search.hnsw.m', hnsw.m, SEARCH_DEFAULTS.m, { min: 2, max: 100 });
  const efConstruction = integer('search.hnsw.efConstruction', hnsw.efConstruction, SEARCH_DEFAULTS.efConstruction, { min: 4, max: 1000 });
  if (efConstruction < 2 * m) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "search.hnsw.efConstruction" is ${efConstruction}, less than twice "search.hnsw.m" (${m}); ` +
        `pgvector requires ef_construction >= 2 × m, so use at least ${2 * m} or a smaller m.`,
    );
  }
  const floorDefault = provider === 'hashing' ? SEARCH_DEFAULTS.hashingExactScanBelowScore : null;
  const floor = options.exactScanBelowScore;
  if (floor !== undefined && floor !== null && !(typeof floor === 'number' && floor >= -1 && floor <= 1)) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "search.exactScanBelowScore" is ${JSON.stringify(floor)}; it must be a cosine similarity from -1 to 1, ` +
        `or null to never repeat a search as an exact scan (default ${floorDefault} with the ${JSON.stringify(provider)} provider).`,
    );
  }
  return {
    efSearch: integer('search.efSearch', options.efSearch, SEARCH_DEFAULTS.efSearch, { min: 1, max: 1000 }),
    maxScanTuples: integer('search.maxScanTuples', options.maxScanTuples, SEARCH_DEFAULTS.maxScanTuples, { min: 1, max: 2_147_483_647 }),
    exactScanBelowScore: floor === undefined ? floorDefault : floor,
    hnsw: { m, efConstruction },
  };
}

function object(key: string, value: unknown): Record<string, unknown> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AiCoreConfigurationError(`AiCoreModule option "${key}" is ${JSON.stringify(value)}; it must be an object (or left out for the defaults).`);
  }
  return value as Record<string, unknown>;
}

function resolveRetained(value: unknown): EmbeddingOptions[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "retainedEmbeddings" is ${JSON.stringify(value)}; it must be a list of embedding options (like "embedding"), or left out.`,
    );
  }
  return value.map((entry, index) => validateEmbedding(entry as EmbeddingOptions, `retainedEmbeddings[${index}]`));
}

function resolveGenerations(value: unknown): ResolvedGenerationOptions {
  const options = object('generations', value) as GenerationOptions;
  if (options.onConfigChange !== undefined && options.onConfigChange !== 'build' && options.onConfigChange !== 'manual') {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "generations.onConfigChange" is ${JSON.stringify(options.onConfigChange)}; use "build" (default) or "manual".`,
    );
  }
  const indexBuild = object('generations.indexBuild', options.indexBuild) as NonNullable<GenerationOptions['indexBuild']>;
  const memory = indexBuild.maintenanceWorkMem;
  if (memory !== undefined && (typeof memory !== 'string' || !/^\d+\s*(kB|MB|GB|TB)?$/.test(memory))) {
    throw new AiCoreConfigurationError(
      `AiCoreModule option "generations.indexBuild.maintenanceWorkMem" is ${JSON.stringify(memory)}; use a PostgreSQL memory size such as "512MB" or "2GB".`,
    );
  }
  return {
    onConfigChange: options.onConfigChange ?? 'build',
    retentionMs: integer('generations.retentionMs', options.retentionMs, 7 * 86_400_000, { min: 0, max: 3650 * 86_400_000 }),
    indexBuild: {
      maintenanceWorkMem: memory ?? null,
      parallelWorkers:
        indexBuild.parallelWorkers === undefined ? null : integer('generations.indexBuild.parallelWorkers', indexBuild.parallelWorkers, 0, { min: 0, max: 64 }),
    },
    sweepIntervalMs: integer('generations.sweepIntervalMs', options.sweepIntervalMs, 30_000, { min: 100, max: 3_600_000 }),
  };
}
