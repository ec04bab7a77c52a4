import { AiCoreConfigurationError } from './ai-core.errors';
import { resolveAiCoreOptions } from './ai-core-options.resolver';

describe('resolveAiCoreOptions', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveAiCoreOptions({});
    expect(resolved).toMatchObject({
      entityConfigPath: 'ai-entity-config.yml',
      embedding: { provider: 'hashing' },
      overlongInput: 'truncate',
      rateLimit: { requestsPerMinute: 0, tokensPerMinute: 0, quotaBackoffMs: 60_000 },
      worker: { enabled: true, concurrency: 2, liveShare: 0, batchSize: 1000, pollIntervalMs: 500, leaseMs: 60_000, sweepIntervalMs: 15_000 },
      queue: { maxRetries: 5, backoffBaseMs: 1_000, backoffMaxMs: 300_000 },
      liveIndexing: true,
    });
  });

  it.each([
    [{ worker: { batchSize: 0 } }, /"worker.batchSize" is 0; it must be an integer from 1 to 5000/],
    [{ worker: { concurrency: 2.5 } }, /"worker.concurrency" is 2.5/],
    [{ worker: { enabled: 'yes' } }, /"worker.enabled" is "yes"; it must be true or false/],
    [{ worker: { liveShare: 1.5 } }, /"worker.liveShare" is 1.5; it must be a number from 0 to 1/],
    [{ queue: { maxRetries: -1 } }, /"queue.maxRetries" is -1/],
    [{ rateLimit: { requestsPerMinute: -5 } }, /"rateLimit.requestsPerMinute" is -5/],
    [{ overlongInput: 'drop' }, /"overlongInput" is "drop"; use "truncate" or "fail"/],
    [{ embedding: { provider: 'cohere' } }, /"embedding.provider" is "cohere"; use "hashing", "openai" or "custom"/],
    [{ embedding: { provider: 'openai', model: 'm', dimensions: 8 } }, /"embedding.apiKey" is missing/],
    [{ embedding: { provider: 'openai', apiKey: 'k', dimensions: 8 } }, /"embedding.model" is missing/],
    [{ embedding: { provider: 'openai', apiKey: 'k', model: 'm' } }, /"embedding.dimensions" is null/],
    [{ embedding: { provider: 'openai', apiKey: 'k', model: 'm', dimensions: 8, baseURL: 'not a url' } }, /"embedding.baseURL" is "not a url", which is not a URL/],
    [{ embedding: { provider: 'custom' } }, /needs exactly one of "useClass" or "useFactory"/],
    [{ entityConfigPath: '' }, /"entityConfigPath" must be a non-empty path/],
  ])('rejects %j with a message naming the key', (options, message) => {
    expect(() => resolveAiCoreOptions(options as never)).toThrow(AiCoreConfigurationError);
    expect(() => resolveAiCoreOptions(options as never)).toThrow(message);
  });
});
