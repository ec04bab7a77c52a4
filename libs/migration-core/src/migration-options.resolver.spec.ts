import { MIGRATION_REQUEST_LIMITS } from './job/migration-request.limits';
import { resolveMigrationOptions } from './migration-options.resolver';
import { MigrationOptionsError } from './migration.errors';

describe('resolveMigrationOptions', () => {
  it('fills in every default', () => {
    expect(resolveMigrationOptions()).toEqual({
      enabled: true,
      defaultBatchSize: 500,
      defaultRateLimit: 100,
      maxConcurrentJobs: 3,
      cleanupCompletedAfterDays: 30,
      leaseMs: 30_000,
      pollIntervalMs: 500,
      pricePerMillionTokens: 0,
      generations: { autoBuild: true, goldenQueriesPath: null, k: 10, minRecall: 0.8, minOverlap: 0, maxMissing: 0, maxStale: 0 },
      budgets: { maxTokensPerJob: null, maxCostPerJob: null, dailyMaxTokens: null, dailyMaxCost: null },
    });
  });

  it('keeps valid values, the bounds included', () => {
    const options = {
      enabled: false,
      defaultBatchSize: MIGRATION_REQUEST_LIMITS.batchSize.max,
      defaultRateLimit: MIGRATION_REQUEST_LIMITS.rateLimit.min,
      maxConcurrentJobs: 100,
      cleanupCompletedAfterDays: 1,
      leaseMs: 1_000,
      pollIntervalMs: 60_000,
      pricePerMillionTokens: 0.02,
      generations: { autoBuild: false, goldenQueriesPath: 'golden.yml', k: 100, minRecall: 1, minOverlap: 0.5, maxMissing: 3, maxStale: 0 },
      budgets: { maxTokensPerJob: 1, maxCostPerJob: 0.5, dailyMaxTokens: MIGRATION_REQUEST_LIMITS.maxTokens.max, dailyMaxCost: MIGRATION_REQUEST_LIMITS.maxCost.max },
    };
    expect(resolveMigrationOptions(options)).toEqual(options);
  });

  it.each([
    ['defaultBatchSize', 0, 'MigrationModule option "defaultBatchSize" is 0; it must be an integer from 1 to 5000 (default 500).'],
    ['defaultBatchSize', 5001, 'MigrationModule option "defaultBatchSize" is 5001; it must be an integer from 1 to 5000 (default 500).'],
    ['defaultRateLimit', 1_000_001, 'MigrationModule option "defaultRateLimit" is 1000001; it must be an integer from 1 to 1000000 (default 100).'],
    ['maxConcurrentJobs', 2.5, 'MigrationModule option "maxConcurrentJobs" is 2.5; it must be an integer from 1 to 100 (default 3).'],
    ['cleanupCompletedAfterDays', '30', 'MigrationModule option "cleanupCompletedAfterDays" is "30"; it must be an integer from 1 to 3650 (default 30).'],
    ['leaseMs', 999, 'MigrationModule option "leaseMs" is 999; it must be an integer from 1000 to 3600000 (default 30000).'],
    ['pollIntervalMs', 5, 'MigrationModule option "pollIntervalMs" is 5; it must be an integer from 10 to 60000 (default 500).'],
    ['pricePerMillionTokens', -1, 'MigrationModule option "pricePerMillionTokens" is -1; it must be a non-negative number of USD per 1M tokens (default 0).'],
    ['pricePerMillionTokens', Number.POSITIVE_INFINITY, 'MigrationModule option "pricePerMillionTokens" is null; it must be a non-negative number of USD per 1M tokens (default 0).'],
    ['enabled', 'yes', 'MigrationModule option "enabled" is "yes"; it must be true or false (default true).'],
    ['generations', [], 'MigrationModule option "generations" is []; it must be an object (or left out for the defaults).'],
  ])('rejects %s = %j with a sentence naming the key, the range and the default', (key, value, message) => {
    expect(() => resolveMigrationOptions({ [key]: value })).toThrow(new MigrationOptionsError(message));
  });

  it.each([
    ['autoBuild', 'yes', 'MigrationModule option "generations.autoBuild" is "yes"; it must be true or false (default true).'],
    ['minRecall', 1.5, 'MigrationModule option "generations.minRecall" is 1.5; it must be a number from 0 to 1 (default 0.8).'],
    ['k', 0, 'MigrationModule option "generations.k" is 0; it must be an integer from 1 to 100 (default 10).'],
    ['goldenQueriesPath', '', 'MigrationModule option "generations.goldenQueriesPath" must be the path of a YAML or JSON file of golden queries.'],
  ])('rejects generations.%s = %j naming the key', (key, value, message) => {
    expect(() => resolveMigrationOptions({ generations: { [key]: value } })).toThrow(new MigrationOptionsError(message));
  });

  it.each([
    ['maxTokensPerJob', 0, 'MigrationModule option "budgets.maxTokensPerJob" is 0; it must be a whole number of tokens from 1 to 1000000000000 (or left out for no limit).'],
    ['dailyMaxTokens', 2.5, 'MigrationModule option "budgets.dailyMaxTokens" is 2.5; it must be a whole number of tokens from 1 to 1000000000000 (or left out for no limit).'],
    ['maxCostPerJob', 0, 'MigrationModule option "budgets.maxCostPerJob" is 0; it must be an amount in USD above 0 and at most 1000000 (or left out for no limit).'],
    ['dailyMaxCost', '5', 'MigrationModule option "budgets.dailyMaxCost" is "5"; it must be an amount in USD above 0 and at most 1000000 (or left out for no limit).'],
  ])('rejects budgets.%s = %j naming the key and the fix', (key, value, message) => {
    expect(() => resolveMigrationOptions({ budgets: { [key]: value } })).toThrow(new MigrationOptionsError(message));
  });

  it('bounds the defaults by the request limits, so a default is always a value a request may give', () => {
    expect(() => resolveMigrationOptions({ defaultBatchSize: MIGRATION_REQUEST_LIMITS.batchSize.max + 1 })).toThrow(MigrationOptionsError);
    expect(() => resolveMigrationOptions({ defaultRateLimit: MIGRATION_REQUEST_LIMITS.rateLimit.max + 1 })).toThrow(MigrationOptionsError);
  });

  it('rejects options that are not an object', () => {
    expect(() => resolveMigrationOptions(null as never)).toThrow(
      'MigrationModule options are null; give an object such as { defaultBatchSize: 500 }.',
    );
    expect(() => resolveMigrationOptions([] as never)).toThrow(MigrationOptionsError);
  });
});
