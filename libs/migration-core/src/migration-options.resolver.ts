import { MIGRATION_REQUEST_LIMITS } from './job/migration-request.limits';
import type { MigrationModuleOptions } from './migration-options.interface';
import { MigrationOptionsError } from './migration.errors';

/** MigrationModule options with every default filled in. */
export type ResolvedMigrationOptions = Required<MigrationModuleOptions>;

function integer(key: string, value: unknown, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new MigrationOptionsError(
      `MigrationModule option "${key}" is ${JSON.stringify(value)}; it must be an integer from ${min} to ${max} (default ${fallback}).`,
    );
  }
  return value;
}

function price(value: unknown): number {
  if (value === undefined) return 0;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new MigrationOptionsError(
      `MigrationModule option "pricePerMillionTokens" is ${JSON.stringify(value)}; it must be a non-negative number of USD per 1M tokens (default 0).`,
    );
  }
  return value;
}

/** Validates MigrationModule options and fills in defaults; throws {@link MigrationOptionsError} naming the bad key. */
export function resolveMigrationOptions(options: MigrationModuleOptions = {}): ResolvedMigrationOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    throw new MigrationOptionsError(`MigrationModule options are ${JSON.stringify(options)}; give an object such as { defaultBatchSize: 500 }.`);
  }
  if (options.enabled !== undefined && typeof options.enabled !== 'boolean') {
    throw new MigrationOptionsError(`MigrationModule option "enabled" is ${JSON.stringify(options.enabled)}; it must be true or false (default true).`);
  }
  return {
    enabled: options.enabled ?? true,
    // A default must be a value a request may give.
    defaultBatchSize: integer('defaultBatchSize', options.defaultBatchSize, 500, MIGRATION_REQUEST_LIMITS.batchSize.min, MIGRATION_REQUEST_LIMITS.batchSize.max),
    defaultRateLimit: integer('defaultRateLimit', options.defaultRateLimit, 100, MIGRATION_REQUEST_LIMITS.rateLimit.min, MIGRATION_REQUEST_LIMITS.rateLimit.max),
    maxConcurrentJobs: integer('maxConcurrentJobs', options.maxConcurrentJobs, 3, 1, 100),
    cleanupCompletedAfterDays: integer('cleanupCompletedAfterDays', options.cleanupCompletedAfterDays, 30, 1, 3650),
    leaseMs: integer('leaseMs', options.leaseMs, 30_000, 1_000, 3_600_000),
    pollIntervalMs: integer('pollIntervalMs', options.pollIntervalMs, 500, 10, 60_000),
    pricePerMillionTokens: price(options.pricePerMillionTokens),
  };
}
