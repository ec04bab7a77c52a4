import { BATCH_PRICE_FACTOR, type ProviderUsageService, type UsagePricing } from '@ai-infrastructure/core';
import { MIGRATION_REQUEST_LIMITS } from './job/migration-request.limits';
import type { MigrationBudgetOptions, MigrationGenerationOptions, MigrationModuleOptions } from './migration-options.interface';
import { MigrationOptionsError } from './migration.errors';

/** MigrationModule options with every default filled in. */
export type ResolvedMigrationOptions = Required<Omit<MigrationModuleOptions, 'generations' | 'budgets'>> & {
  generations: ResolvedMigrationGenerationOptions;
  budgets: ResolvedMigrationBudgetOptions;
};

/** {@link MigrationBudgetOptions} with null for "no limit". */
export interface ResolvedMigrationBudgetOptions {
  maxTokensPerJob: number | null;
  maxCostPerJob: number | null;
  dailyMaxTokens: number | null;
  dailyMaxCost: number | null;
}

function resolveBudgets(value: unknown): ResolvedMigrationBudgetOptions {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new MigrationOptionsError(`MigrationModule option "budgets" is ${JSON.stringify(value)}; it must be an object such as { maxCostPerJob: 5 } (or left out for no limits).`);
  }
  const options = (value ?? {}) as MigrationBudgetOptions;
  const tokens = (key: keyof MigrationBudgetOptions) => {
    const given = options[key];
    if (given === undefined) return null;
    if (typeof given !== 'number' || !Number.isInteger(given) || given < 1 || given > MIGRATION_REQUEST_LIMITS.maxTokens.max) {
      throw new MigrationOptionsError(
        `MigrationModule option "budgets.${key}" is ${JSON.stringify(given)}; it must be a whole number of tokens from 1 to ${MIGRATION_REQUEST_LIMITS.maxTokens.max} (or left out for no limit).`,
      );
    }
    return given;
  };
  const usd = (key: keyof MigrationBudgetOptions) => {
    const given = options[key];
    if (given === undefined) return null;
    if (typeof given !== 'number' || !Number.isFinite(given) || given <= 0 || given > MIGRATION_REQUEST_LIMITS.maxCost.max) {
      throw new MigrationOptionsError(
        `MigrationModule option "budgets.${key}" is ${JSON.stringify(given)}; it must be an amount in USD above 0 and at most ${MIGRATION_REQUEST_LIMITS.maxCost.max} (or left out for no limit).`,
      );
    }
    return given;
  };
  return { maxTokensPerJob: tokens('maxTokensPerJob'), maxCostPerJob: usd('maxCostPerJob'), dailyMaxTokens: tokens('dailyMaxTokens'), dailyMaxCost: usd('dailyMaxCost') };
}

/** {@link MigrationGenerationOptions} with every default filled in. */
export interface ResolvedMigrationGenerationOptions {
  autoBuild: boolean;
  goldenQueriesPath: string | null;
  k: number;
  minRecall: number;
  minOverlap: number;
  maxMissing: number;
  maxStale: number;
}

function ratio(key: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new MigrationOptionsError(`MigrationModule option "${key}" is ${JSON.stringify(value)}; it must be a number from 0 to 1 (default ${fallback}).`);
  }
  return value;
}

function resolveGenerations(value: unknown): ResolvedMigrationGenerationOptions {
  if (value !== undefined && (value === null || typeof value !== 'object' || Array.isArray(value))) {
    throw new MigrationOptionsError(`MigrationModule option "generations" is ${JSON.stringify(value)}; it must be an object (or left out for the defaults).`);
  }
  const options = (value ?? {}) as MigrationGenerationOptions;
  if (options.autoBuild !== undefined && typeof options.autoBuild !== 'boolean') {
    throw new MigrationOptionsError(`MigrationModule option "generations.autoBuild" is ${JSON.stringify(options.autoBuild)}; it must be true or false (default true).`);
  }
  if (options.goldenQueriesPath !== undefined && (typeof options.goldenQueriesPath !== 'string' || options.goldenQueriesPath === '')) {
    throw new MigrationOptionsError(`MigrationModule option "generations.goldenQueriesPath" must be the path of a YAML or JSON file of golden queries.`);
  }
  return {
    autoBuild: options.autoBuild ?? true,
    goldenQueriesPath: options.goldenQueriesPath ?? null,
    k: integer('generations.k', options.k, 10, 1, 100),
    minRecall: ratio('generations.minRecall', options.minRecall, 0.8),
    minOverlap: ratio('generations.minOverlap', options.minOverlap, 0),
    maxMissing: integer('generations.maxMissing', options.maxMissing, 0, 0, 2_147_483_647),
    maxStale: integer('generations.maxStale', options.maxStale, 0, 0, 2_147_483_647),
  };
}

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
    generations: resolveGenerations(options.generations),
    budgets: resolveBudgets(options.budgets),
  };
}

/**
 * USD of `tokens` of `model`: the core's `pricing` for the model when it has one, else the module's
 * `pricePerMillionTokens` (the runner's metering and the estimate price the same way); tokens that went
 * through the provider's Batch API cost {@link BATCH_PRICE_FACTOR} of it.
 */
export function migrationCost(usage: ProviderUsageService, options: ResolvedMigrationOptions, model: string, tokens: number, pricing: UsagePricing = 'sync'): number {
  if (usage.priceOf(model) !== undefined) return usage.costOf(model, tokens, pricing);
  return ((tokens * options.pricePerMillionTokens) / 1_000_000) * (pricing === 'batch' ? BATCH_PRICE_FACTOR : 1);
}
