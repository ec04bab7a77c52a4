import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import request from 'supertest';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, truncateTables, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { AS_VIEWER, webTestOptions } from './fixtures/web-auth.fixture';
import { CapturedLogger } from './support/captured-logger';
import { FAKE_OPENAI_API_KEY, fakeTokenCount, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const METRICS = '/api/ai/monitoring/metrics';
const MODEL = 'text-embedding-3-small';

/** One sample of the exposition: metric name, labels and value. */
interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text format's samples (comments skipped). */
function samples(text: string): Sample[] {
  return text
    .split('\n')
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
      if (!match) throw new Error(`Not a sample line of the exposition format: ${line}`);
      const labels: Record<string, string> = {};
      for (const pair of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[pair[1]] = pair[2];
      return { name: match[1], labels, value: Number(match[3]) };
    });
}

/** The samples of `name` whose labels include `labels`. */
function find(all: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return all.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
}

/** `promtool check metrics` on the exposition: its exit status and what it printed. */
function promtool(text: string): { status: number | null; output: string } {
  const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  if (result.error) throw new Error(`promtool could not be run (${result.error.message}); .ci/run installs it with Debian's prometheus package.`);
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

/** The PromQL expressions of the Grafana dashboard in docs/. */
function dashboardQueries(): string[] {
  const dashboard = JSON.parse(readFileSync(join(__dirname, '..', 'docs', 'grafana', 'ai-infrastructure.json'), 'utf8'));
  return dashboard.panels.flatMap((panel: { targets: Array<{ expr: string }> }) => panel.targets.map((t) => t.expr));
}

/**
 * Issue 15, metrics: `GET /api/ai/monitoring/metrics` serves the Prometheus exposition for a bearer token
 * of any role. Scraped during and after a backfill through the real OpenAI client: the queue and job
 * gauges (read from the database), the items finished, and the tokens the server billed; both scrapes
 * pass `promtool check metrics`.
 */
describeEachEngine('Monitoring: Prometheus metrics', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let http: ReturnType<IndexingApp['app']['getHttpServer']>;

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      products: true,
      logger: new CapturedLogger(),
      migration: {},
      web: webTestOptions(),
      core: {
        embedding: { provider: 'openai', apiKey: FAKE_OPENAI_API_KEY, baseURL: server.url, model: MODEL, dimensions: 32 },
        pricing: { [MODEL]: 0.02 },
        worker: { batchSize: 25 },
      },
    });
    http = ctx.app.getHttpServer();
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
  });

  const scrape = async () => {
    const res = await request(http).get(METRICS).set(AS_VIEWER).expect(200);
    // Prometheus' text format, version 0.0.4 (Express may reorder the parameters).
    expect(res.headers['content-type']).toMatch(/^text\/plain;/);
    expect(res.headers['content-type']).toContain('version=0.0.4');
    return res.text;
  };

  it('needs a bearer token', async () => {
    const res = await request(http).get(METRICS).expect(401);
    expect(res.body.message).toContain('bearer token');
  });

  it('reports a backfill while it runs and after it, from the database, in an exposition promtool accepts', async () => {
    await truncateTables(ctx.dataSource, ['ai_provider_usage', 'ai_migration_jobs']);
    server.reset();
    await insertProducts(ctx.dataSource, generatedProducts(200, 'metered item'));
    // Slow answers keep the job running while it is scraped.
    server.delayMs = 150;
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.startMigration({ entityType: 'product', rateLimit: 1_000_000 });
    await waitUntil('the job has processed something', async () => (await migrations.getProgress(job.id)).progress.processed > 0, 30_000, 20);

    const during = await scrape();
    expect(promtool(during)).toEqual({ status: 0, output: '' });
    // The Grafana dashboard in docs/ queries only metrics that exist, in PromQL that promtool parses.
    const declared = new Set([...during.matchAll(/^# TYPE (\S+) /gm)].map((m) => m[1]));
    const queries = dashboardQueries();
    // A histogram's series are its name with _bucket, _sum and _count.
    const isDeclared = (name: string) => declared.has(name) || declared.has(name.replace(/_(bucket|sum|count)$/, ''));
    for (const name of new Set(queries.flatMap((q) => q.match(/\bai_[a-z_]+/g) ?? []))) expect({ name, declared: isDeclared(name) }).toEqual({ name, declared: true });
    const dir = mkdtempSync(join(tmpdir(), 'ai-dashboard-'));
    try {
      const rules = join(dir, 'rules.yml');
      writeFileSync(rules, JSON.stringify({ groups: [{ name: 'dashboard', rules: queries.map((expr, i) => ({ record: `dashboard:query${i}`, expr })) }] }));
      const checked = spawnSync('promtool', ['check', 'rules', rules], { encoding: 'utf8' });
      expect({ status: checked.status, output: checked.stderr }).toEqual({ status: 0, output: '' });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const now = samples(during);
    expect(find(now, 'ai_migration_jobs', { status: 'RUNNING' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(find(now, 'ai_migration_job_entities', { job_id: job.id, entity_type: 'product', kind: 'total' })).toEqual([expect.objectContaining({ value: 200 })]);
    const processed = find(now, 'ai_migration_job_entities', { job_id: job.id, kind: 'processed' })[0].value;
    expect(processed).toBeGreaterThan(0);
    expect(processed).toBeLessThanOrEqual(200);
    expect(find(now, 'ai_migration_job_throughput_entities_per_second', { job_id: job.id })[0].value).toBeGreaterThan(0);
    const queued = find(now, 'ai_indexing_queue_items').reduce((sum, s) => sum + s.value, 0);
    expect(queued).toBeGreaterThan(0);
    expect(queued).toBeLessThanOrEqual(200);
    expect(find(now, 'ai_indexing_queue_oldest_pending_age_seconds', { priority: 'high' })).toEqual([expect.objectContaining({ value: 0 })]);

    server.delayMs = 0;
    await waitUntil('the job completes', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 60_000, 100);
    const after = await scrape();
    expect(promtool(after)).toEqual({ status: 0, output: '' });
    const done = samples(after);
    // Active jobs only: the finished job's series are gone, its status counted.
    expect(find(done, 'ai_migration_job_entities')).toEqual([]);
    expect(find(done, 'ai_migration_job_eta_seconds')).toEqual([]);
    expect(find(done, 'ai_migration_jobs', { status: 'COMPLETED' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(find(done, 'ai_migration_jobs', { status: 'RUNNING' })).toEqual([expect.objectContaining({ value: 0 })]);
    // This instance created the job (RUNNING) and completed it.
    expect(find(done, 'ai_migration_job_status_changes_total', { to: 'RUNNING' })[0].value).toBeGreaterThanOrEqual(1);
    expect(find(done, 'ai_migration_job_status_changes_total', { to: 'COMPLETED' })[0].value).toBeGreaterThanOrEqual(1);
    expect(find(done, 'ai_indexing_queue_items')).toEqual([]);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    expect(find(done, 'ai_indexing_items_total', { entity_type: 'product', result: 'indexed' })).toEqual([expect.objectContaining({ value: 200 })]);
    // The tokens the server billed, as the provider reported them, and the requests it received.
    const billed = server.embeddingRequests.filter((r) => r.status === 200).reduce((sum, r) => sum + r.inputs!.reduce((s, t) => s + fakeTokenCount(t), 0), 0);
    expect(find(done, 'ai_embedding_tokens_total', { scope: 'backfill', model: MODEL })).toEqual([expect.objectContaining({ value: billed })]);
    expect(find(done, 'ai_embedding_requests_total', { scope: 'backfill', model: MODEL })[0].value).toBeCloseTo(server.embeddingRequests.length, 6);
    expect(find(done, 'ai_embedding_cost_usd_total', { scope: 'backfill', model: MODEL })[0].value).toBeCloseTo((billed * 0.02) / 1e6, 6);
    expect(find(done, 'ai_embedding_rate_limiter_waiting')).toEqual([expect.objectContaining({ value: 0 })]);
    expect(find(done, 'ai_embedding_rate_limiter_blocked_seconds')).toEqual([expect.objectContaining({ value: 0 })]);
    // This instance's requests by outcome (the server answered every one), and their durations.
    const sent = server.embeddingRequests.length;
    expect(find(done, 'ai_embedding_request_outcomes_total', { model: MODEL, lane: 'bulk', outcome: 'success' })).toEqual([expect.objectContaining({ value: sent })]);
    expect(find(done, 'ai_embedding_request_duration_seconds_count', { model: MODEL, lane: 'bulk' })).toEqual([expect.objectContaining({ value: sent })]);
    // Requests answered after the 150 ms delay fall above the 0.1 s bucket.
    expect(find(done, 'ai_embedding_request_duration_seconds_bucket', { model: MODEL, lane: 'bulk', le: '0.1' })[0].value).toBeLessThan(sent);
  }, 120_000);

  it('measures live indexing lag: a saved product counts once, from its queueing to its vector', async () => {
    const before = samples(await scrape());
    const countOfLag = (all: Sample[]) => find(all, 'ai_live_indexing_lag_seconds_count', { entity_type: 'product' })[0]?.value ?? 0;
    const saved = await ctx.products!.save(ctx.products!.create({ name: 'Lagged boots', description: 'Measured from save to searchable.', category: 'Footwear', price: 80 }));
    await waitUntil('the saved product has a vector', async () => (await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_id = $1`, [String(saved.id)])) === 1, 30_000, 20);
    const after = samples(await scrape());
    expect(countOfLag(after) - countOfLag(before)).toBe(1);
    const sum = find(after, 'ai_live_indexing_lag_seconds_sum', { entity_type: 'product' })[0].value - (find(before, 'ai_live_indexing_lag_seconds_sum', { entity_type: 'product' })[0]?.value ?? 0);
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(30);
  }, 60_000);

  it('counts failed attempts by outcome: a search whose first request is answered 500, then one answered 429', async () => {
    const before = samples(await scrape());
    const count = (all: Sample[], outcome: string) => find(all, 'ai_embedding_request_outcomes_total', { model: MODEL, lane: 'interactive', outcome })[0]?.value ?? 0;
    server.failNext(1, { status: 500 });
    await request(http).get('/api/ai/search').set(AS_VIEWER).query({ entityType: 'product', q: 'metered item 7' }).expect(200);
    server.failNext(1, { status: 429 });
    await request(http).get('/api/ai/search').set(AS_VIEWER).query({ entityType: 'product', q: 'metered item 8' }).expect(200);
    const after = samples(await scrape());
    expect({
      transient: count(after, 'transient_error') - count(before, 'transient_error'),
      limited: count(after, 'rate_limited') - count(before, 'rate_limited'),
      success: count(after, 'success') - count(before, 'success'),
    }).toEqual({ transient: 1, limited: 1, success: 2 });
  }, 60_000);

  it('counts items put back in the queue by reason: a budget that refuses the first request', async () => {
    await truncateTables(ctx.dataSource, ['ai_migration_jobs']);
    await insertProducts(ctx.dataSource, generatedProducts(100, 'budgeted item'));
    const before = samples(await scrape());
    const requeued = (all: Sample[]) => find(all, 'ai_indexing_items_requeued_total', { entity_type: 'product', reason: 'budget' })[0]?.value ?? 0;
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.startMigration({ entityType: 'product', reindexExisting: true, maxTokens: 10, rateLimit: 1_000_000 });
    await waitUntil('the job pauses at its budget', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.PAUSED, 30_000, 50);
    const after = samples(await scrape());
    // The refused request's items (one worker batch, or one per worker loop) went back without being sent.
    expect(requeued(after) - requeued(before)).toBeGreaterThanOrEqual(25);
    expect(find(after, 'ai_migration_jobs', { status: 'PAUSED' })).toEqual([expect.objectContaining({ value: 1 })]);
    expect(find(after, 'ai_migration_job_eta_seconds', { job_id: job.id })).toEqual([]);
    const paused = (all: Sample[]) => find(all, 'ai_migration_job_status_changes_total', { to: 'PAUSED' })[0]?.value ?? 0;
    expect(paused(after) - paused(before)).toBe(1);
    await migrations.cancelMigration(job.id);
  }, 60_000);
});
