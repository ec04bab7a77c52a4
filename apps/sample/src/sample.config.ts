import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS, type AiCoreModuleOptions, type AiDataSourceOptions, type RateLimitScope } from '@ai-infrastructure/core';
import { AI_MIGRATION_ENTITIES, AI_MIGRATION_MIGRATIONS, type MigrationModuleOptions } from '@ai-infrastructure/migration-core';
import type { AiApiToken, AiRouteGroup, AiWebModuleOptions } from '@ai-infrastructure/web';
import { Logger } from '@nestjs/common';
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
          timeoutMs: int(env, 'OPENAI_TIMEOUT_MS'),
        }
      : provider === 'hashing'
        ? { provider: 'hashing', dimensions: int(env, 'AI_EMBEDDING_DIMENSIONS') }
        : ({ provider } as never);
  return {
    entityConfigPath: env.AI_ENTITY_CONFIG ?? 'apps/sample/ai-entity-config.yml',
    embedding,
    rateLimit: {
      requestsPerMinute: int(env, 'AI_RATE_LIMIT_RPM'),
      tokensPerMinute: int(env, 'AI_RATE_LIMIT_TPM'),
      // Validated by AiCoreModule, whose error names the option and the values it accepts.
      scope: (env.AI_RATE_LIMIT_SCOPE || undefined) as RateLimitScope | undefined,
    },
    providerRetry: { outagePauseMs: int(env, 'AI_PROVIDER_OUTAGE_PAUSE_MS') },
    worker: {
      enabled: bool(env, 'AI_WORKERS_ENABLED'),
      concurrency: int(env, 'AI_WORKER_CONCURRENCY'),
      batchSize: int(env, 'AI_WORKER_BATCH_SIZE'),
      pollIntervalMs: int(env, 'AI_WORKER_POLL_MS'),
      liveConcurrency: int(env, 'AI_WORKER_LIVE_CONCURRENCY'),
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

/**
 * AiWebModule options of the sample app. API tokens come from AI_API_TOKENS as comma-separated
 * `name:role:token` entries (e.g. `ci:admin:s3cret-token-0123456789,grafana:viewer:another-token-012345`);
 * AI_AUTH_DISABLED=true turns authentication off. With neither, the sample creates a random admin token
 * once, in `<data dir>/sample-admin-token` (readable by this user only), and logs the file's path — never
 * the token — like an initial admin password. AI_API_ANONYMOUS lists the route groups open without a token
 * (comma-separated: health, search, monitoring; default `health`, for probes; `none` for none).
 */
export function sampleWebOptions(env: NodeJS.ProcessEnv = process.env): AiWebModuleOptions {
  const limit = int(env, 'AI_THROTTLE_LIMIT');
  const throttle = bool(env, 'AI_THROTTLE_ENABLED') === false ? false : { limit: limit ?? 30, ttlMs: int(env, 'AI_THROTTLE_TTL_MS') ?? 60_000 };
  const events = { intervalMs: int(env, 'AI_EVENTS_INTERVAL_MS') };
  if (bool(env, 'AI_AUTH_DISABLED')) return { auth: { disabled: true }, throttle, events };
  const anonymous = parseAnonymous(env.AI_API_ANONYMOUS);
  if (env.AI_API_TOKENS) return { auth: { tokens: parseApiTokens(env.AI_API_TOKENS), anonymous }, throttle, events };
  const file = sampleAdminTokenFile(env);
  new Logger('Sample').warn(
    `AI_API_TOKENS is not set: the migration endpoints accept the admin token in ${file} (created on first start). Set AI_API_TOKENS for anything but a local trial.`,
  );
  return { auth: { tokens: [{ name: 'sample-admin', token: readOrCreateToken(file), role: 'admin' }], anonymous }, throttle, events };
}

/** AI_API_ANONYMOUS: route groups open without a token (AiWebModule validates the names). */
function parseAnonymous(raw: string | undefined): AiRouteGroup[] {
  if (raw === undefined || raw.trim() === '') return ['health'];
  if (raw.trim() === 'none') return [];
  return raw.split(',').map((group) => group.trim() as AiRouteGroup);
}

/** Where the sample keeps its generated admin token: the embedded database's data directory. */
export function sampleAdminTokenFile(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.AI_DATA_DIR?.trim() || 'data', 'sample-admin-token');
}

function readOrCreateToken(file: string): string {
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dirname(file), { recursive: true });
  const token = randomBytes(24).toString('base64url');
  writeFileSync(file, `${token}\n`, { mode: 0o600, flag: 'wx' });
  return token;
}

/** Parses AI_API_TOKENS (`name:role:token,...`); AiWebModule validates names, roles and token lengths. */
export function parseApiTokens(raw: string): AiApiToken[] {
  return raw.split(',').map((entry, i) => {
    const [name, role, ...secret] = entry.trim().split(':');
    if (!name || !role || secret.length === 0) {
      throw new Error(`Environment variable AI_API_TOKENS: entry ${i + 1} is not "name:role:token" (e.g. "ci:admin:<secret of 16+ characters>").`);
    }
    return { name, role: role as AiApiToken['role'], token: secret.join(':') };
  });
}
