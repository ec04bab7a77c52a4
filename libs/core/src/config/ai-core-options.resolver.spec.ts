import { AiCoreConfigurationError } from './ai-core.errors';
import { resolveAiCoreOptions } from './ai-core-options.resolver';

describe('resolveAiCoreOptions', () => {
  it('fills in the documented defaults', () => {
    const resolved = resolveAiCoreOptions({});
    expect(resolved).toMatchObject({
      entityConfigPath: 'ai-entity-config.yml',
      embedding: { provider: 'hashing' },
      overlongInput: 'truncate',
      rateLimit: { requestsPerMinute: 0, tokensPerMinute: 0, scope: 'cluster', quotaBackoffMs: 60_000 },
      worker: {
        enabled: true, concurrency: 2, liveConcurrency: 1, liveBatchSize: 100, commitChunkSize: 200, liveShare: 0, batchSize: 1000,
        pollIntervalMs: 500, leaseMs: 60_000, sweepIntervalMs: 15_000, shutdownGraceMs: 10_000,
      },
      queue: { maxRetries: 5, backoffBaseMs: 1_000, backoffMaxMs: 300_000 },
      providerRetry: { backoffBaseMs: 500, backoffMaxMs: 30_000, outagePauseMs: 300_000 },
      liveIndexing: true,
    });
  });

  it.each([
    [{ worker: { batchSize: 0 } }, /"worker.batchSize" is 0; it must be an integer from 1 to 5000/],
    [{ worker: { concurrency: 2.5 } }, /"worker.concurrency" is 2.5/],
    [{ worker: { enabled: 'yes' } }, /"worker.enabled" is "yes"; it must be true or false/],
    [{ worker: { liveShare: 1.5 } }, /"worker.liveShare" is 1.5; it must be a number from 0 to 1/],
    [{ worker: { liveConcurrency: 17 } }, /"worker.liveConcurrency" is 17; it must be an integer from 0 to 16/],
    [{ worker: { liveBatchSize: 0 } }, /"worker.liveBatchSize" is 0/],
    [{ worker: { commitChunkSize: 0 } }, /"worker.commitChunkSize" is 0/],
    [{ worker: { shutdownGraceMs: -1 } }, /"worker.shutdownGraceMs" is -1; it must be an integer from 0 to 600000/],
    [{ providerRetry: { outagePauseMs: -1 } }, /"providerRetry.outagePauseMs" is -1/],
    [{ embedding: { provider: 'openai', apiKey: 'k', model: 'm', dimensions: 8, timeoutMs: 50 } }, /"embedding.timeoutMs" is 50; it must be an integer from 100 to 600000 \(default 30000\)/],
    [{ queue: { maxRetries: -1 } }, /"queue.maxRetries" is -1/],
    [{ rateLimit: { requestsPerMinute: -5 } }, /"rateLimit.requestsPerMinute" is -5/],
    [{ rateLimit: { scope: 'global' } }, /"rateLimit.scope" is "global"; use "cluster" \(default: .*\) or "instance"/],
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

describe('resolveAiCoreOptions: search', () => {
  it('defaults to ef_search 400, pgvector’s max_scan_tuples and build parameters, and an exact scan below 0.5 with the hashing provider', () => {
    expect(resolveAiCoreOptions({}).search).toEqual({
      efSearch: 400,
      maxScanTuples: 20_000,
      exactScanBelowScore: 0.5,
      hnsw: { m: 16, efConstruction: 64 },
    });
  });

  it('repeats no search as an exact scan by default with other providers, whose similarity scale differs', () => {
    const openai = resolveAiCoreOptions({ embedding: { provider: 'openai', apiKey: 'k', model: 'm', dimensions: 8 } });
    expect(openai.search.exactScanBelowScore).toBeNull();
    const custom = resolveAiCoreOptions({ embedding: { provider: 'custom', useFactory: () => ({}) as never } });
    expect(custom.search.exactScanBelowScore).toBeNull();
  });

  it('keeps what is set, null turning the exact scan off', () => {
    const resolved = resolveAiCoreOptions({
      search: { efSearch: 100, maxScanTuples: 5_000, exactScanBelowScore: null, hnsw: { m: 24, efConstruction: 128 } },
    });
    expect(resolved.search).toEqual({ efSearch: 100, maxScanTuples: 5_000, exactScanBelowScore: null, hnsw: { m: 24, efConstruction: 128 } });
    expect(resolveAiCoreOptions({ embedding: { provider: 'openai', apiKey: 'k', model: 'm', dimensions: 8 }, search: { exactScanBelowScore: 0.3 } }).search.exactScanBelowScore).toBe(0.3);
  });

  it.each([
    [{ search: 5 }, /"search" is 5; it must be an object/],
    [{ search: { hnsw: [] } }, /"search.hnsw" is \[\]; it must be an object/],
    [{ search: { efSearch: 0 } }, /"search.efSearch" is 0; it must be an integer from 1 to 1000 \(default 400\)/],
    [{ search: { efSearch: 1001 } }, /"search.efSearch" is 1001/],
    [{ search: { maxScanTuples: 0 } }, /"search.maxScanTuples" is 0/],
    [{ search: { exactScanBelowScore: 1.5 } }, /"search.exactScanBelowScore" is 1.5; it must be a cosine similarity from -1 to 1, or null/],
    [{ search: { exactScanBelowScore: 'high' } }, /"search.exactScanBelowScore" is "high"/],
    [{ search: { hnsw: { m: 1 } } }, /"search.hnsw.m" is 1; it must be an integer from 2 to 100/],
    [{ search: { hnsw: { efConstruction: 1001 } } }, /"search.hnsw.efConstruction" is 1001/],
    [{ search: { hnsw: { m: 48 } } }, /"search.hnsw.efConstruction" is 64, less than twice "search.hnsw.m" \(48\); .* use at least 96/],
  ])('rejects %j with a message naming the key', (options, message) => {
    expect(() => resolveAiCoreOptions(options as never)).toThrow(AiCoreConfigurationError);
    expect(() => resolveAiCoreOptions(options as never)).toThrow(message);
  });
});

describe('resolveAiCoreOptions: generations and retained providers', () => {
  it('defaults: build a generation on a configuration change, keep a superseded one 7 days, server settings for the index build', () => {
    const resolved = resolveAiCoreOptions({});
    expect(resolved.retainedEmbeddings).toEqual([]);
    expect(resolved.generations).toEqual({
      onConfigChange: 'build',
      retentionMs: 7 * 86_400_000,
      indexBuild: { maintenanceWorkMem: null, parallelWorkers: null },
      sweepIntervalMs: 30_000,
    });
  });

  it('validates each retained provider like "embedding", naming its entry', () => {
    expect(() => resolveAiCoreOptions({ retainedEmbeddings: [{ provider: 'hashing' }, { provider: 'openai', model: 'm', dimensions: 8 } as never] })).toThrow(
      'AiCoreModule option "retainedEmbeddings[1].apiKey" is missing',
    );
    expect(() => resolveAiCoreOptions({ retainedEmbeddings: { provider: 'hashing' } as never })).toThrow('"retainedEmbeddings" is {"provider":"hashing"}; it must be a list');
  });

  it.each([
    [{ generations: { onConfigChange: 'auto' } }, '"generations.onConfigChange" is "auto"; use "build" (default) or "manual".'],
    [{ generations: { retentionMs: -1 } }, '"generations.retentionMs" is -1; it must be an integer'],
    [{ generations: { indexBuild: { maintenanceWorkMem: 'lots' } } }, '"generations.indexBuild.maintenanceWorkMem" is "lots"; use a PostgreSQL memory size'],
    [{ generations: { indexBuild: { parallelWorkers: 2.5 } } }, '"generations.indexBuild.parallelWorkers" is 2.5'],
  ])('rejects %j naming the key', (options, message) => {
    expect(() => resolveAiCoreOptions(options as never)).toThrow(message);
  });
});
