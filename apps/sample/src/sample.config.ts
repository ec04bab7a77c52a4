import { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS, type AiCoreModuleOptions, type AiDataSourceOptions } from '@ai-infrastructure/core';
import { AI_MIGRATION_ENTITIES, AI_MIGRATION_MIGRATIONS, type MigrationModuleOptions } from '@ai-infrastructure/migration-core';
import { CreateProducts1732100001000 } from './migrations/1732100001000-create-products';
import { Product } from './products/product.entity';

function int(env: NodeJS.ProcessEnv, key: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value)) {
    throw new Error(`Environment variable ${key} is "${raw}"; it must be an integer.`);
  }
  return value;
}

function bool(env: NodeJS.ProcessEnv, key: string): boolean | undefined {
  const raw = env[key];
  if (raw === undefined || raw === '') return undefined;
  if (raw !== 'true' && raw !== 'false') throw new Error(`Environment variable ${key} is "${raw}"; use true or false.`);
  return raw === 'true';
}

/** TypeORM options of the sample app: its entities and migrations plus the core library's. */
export function sampleDataSourceOptions(env: NodeJS.ProcessEnv = process.env): AiDataSourceOptions {
  return {
    entities: [Product, ...AI_CORE_ENTITIES, ...AI_MIGRATION_ENTITIES],
    migrations: [...AI_CORE_MIGRATIONS, ...AI_MIGRATION_MIGRATIONS, CreateProducts1732100001000],
    migrationsRun: bool(env, 'DB_MIGRATIONS_RUN') ?? true,
    poolSize: int(env, 'DB_POOL_SIZE') ?? 10,
    logging: ['error'],
  };
}

/** AiCoreModule options of the sample app, from environment variables (see README "Configuration"). */
export function sampleCoreOptions(env: NodeJS.ProcessEnv = process.env): AiCoreModuleOptions {
  const provider = env.AI_EMBEDDING_PROVIDER ?? 'hashing';
  const embedding: AiCoreModuleOptions['embedding'] =
    provider === 'openai'
      ? {
          provider: 'openai',
          apiKey: env.OPENAI_API_KEY ?? '',
          baseURL: env.OPENAI_BASE_URL || undefined,
          model: env.AI_EMBEDDING_MODEL ?? 'text-embedding-3-small',
          dimensions: int(env, 'AI_EMBEDDING_DIMENSIONS') ?? 1536,
          sendDimensions: bool(env, 'AI_EMBEDDING_SEND_DIMENSIONS'),
        }
      : provider === 'hashing'
        ? { provider: 'hashing', dimensions: int(env, 'AI_EMBEDDING_DIMENSIONS') }
        : ({ provider } as never);
  return {
    entityConfigPath: env.AI_ENTITY_CONFIG ?? 'apps/sample/ai-entity-config.yml',
    embedding,
    rateLimit: { requestsPerMinute: int(env, 'AI_RATE_LIMIT_RPM'), tokensPerMinute: int(env, 'AI_RATE_LIMIT_TPM') },
    worker: {
      enabled: bool(env, 'AI_WORKERS_ENABLED'),
      concurrency: int(env, 'AI_WORKER_CONCURRENCY'),
      batchSize: int(env, 'AI_WORKER_BATCH_SIZE'),
      pollIntervalMs: int(env, 'AI_WORKER_POLL_MS'),
    },
    liveIndexing: bool(env, 'AI_LIVE_INDEXING'),
  };
}

/**
 * MigrationModule options of the sample app. A job's default rate limit guards a paid API's quota; the
 * local hashing provider has none, so it is not throttled unless AI_MIGRATION_RATE_LIMIT says so.
 */
export function sampleMigrationOptions(env: NodeJS.ProcessEnv = process.env): MigrationModuleOptions {
  const hashing = (env.AI_EMBEDDING_PROVIDER ?? 'hashing') === 'hashing';
  return {
    defaultBatchSize: int(env, 'AI_MIGRATION_BATCH_SIZE'),
    defaultRateLimit: int(env, 'AI_MIGRATION_RATE_LIMIT') ?? (hashing ? 1_000_000 : undefined),
    maxConcurrentJobs: int(env, 'AI_MIGRATION_MAX_JOBS'),
  };
}
