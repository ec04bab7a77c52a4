import { kill9, spawnAppProcess, type AppProcess } from './fixtures/app-process';
import { Client } from 'pg';
import { FAKE_OPENAI_API_KEY, startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { bootIndexingApp, generatedProducts, insertProducts, waitUntil } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

const SCRIPT = 'test/fixtures/migration-app-process.ts';
const N = 1500;
const WORKER_BATCH = 50;

const spawnApp = (env: Record<string, string>): AppProcess => spawnAppProcess(SCRIPT, env);

/**
 * Crash recovery and takeover with real processes: an instance is killed with SIGKILL in the middle of a
 * job; another instance finishes it from the checkpoint. Exactly N vectors, every entity counted once,
 * and the provider embeds at most one extra batch per kill.
 */
describeEachEngine('Migration crash recovery and takeover', ({ getUrl }) => {
  let server: FakeOpenAiServer;
  let db: Client;
  const apps: AppProcess[] = [];

  const job = async (id: string) => (await db.query(`SELECT status, processed_entities::int AS processed, failed_entities::int AS failed, skipped_entities::int AS skipped, lease_owner FROM ai_migration_jobs WHERE id = $1`, [id])).rows[0];
  const count = async (sql: string) => (await db.query(sql)).rows[0].n as number;
  const embeddedInputs = () => server.embeddingRequests.filter((r) => r.status === 200).reduce((sum, r) => sum + (r.inputs?.length ?? 0), 0);

  beforeAll(async () => {
    server = await startFakeOpenAiServer({ dimensions: 32 });
    // Schema and products, from a short-lived app in this process (no workers, no migration module).
    const setup = await bootIndexingApp({ databaseUrl: getUrl(), products: true, core: { worker: { enabled: false }, liveIndexing: false } });
    await insertProducts(setup.dataSource, generatedProducts(N, 'crash item'));
    // The setup app's provider (hashing) created the first index generation; the app processes embed with
    // the openai provider, whose first start must create it instead (no vectors exist yet).
    await setup.dataSource.query(`TRUNCATE ai_index_generations, ai_index_aliases`);
    await setup.close();
    db = new Client({ connectionString: getUrl() });
    await db.connect();
  });

  afterEach(async () => {
    await Promise.all(apps.splice(0).map(kill9));
  });

  afterAll(async () => {
    await db?.end();
    await server?.close();
  });

  it('kill -9 mid-job, start again: the job completes with exactly N vectors, counted once, at most one batch re-embedded per kill', async () => {
    server.reset();
    server.delayMs = 40;
    const first = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url, START_JOB: '1' });
    apps.push(first);
    const jobId = await first.line('JOB');
    await waitUntil('a third of the job is done', async () => (await job(jobId)).processed >= N / 3, 60_000).catch((e) => {
      throw new Error(`${e.message} Job: ${JSON.stringify(job(jobId))}; output: ${first.output.slice(-20).join(' | ')}`);
    });
    await kill9(first);
    const atKill = await job(jobId);
    expect(atKill.status).toBe('RUNNING');
    expect(atKill.processed).toBeLessThan(N);

    server.delayMs = 0;
    const second = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url });
    apps.push(second);
    await waitUntil('the job completed', async () => (await job(jobId)).status === 'COMPLETED', 90_000);

    const done = await job(jobId);
    expect(done).toMatchObject({ processed: N, failed: 0, skipped: 0 });
    expect(await count(`SELECT count(*)::int AS n FROM ai_searchable_entities`)).toBe(N);
    expect(await count(`SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    // Each kill can lose at most the batches in flight (2 worker loops x 50 items) to re-embedding.
    expect(embeddedInputs()).toBeGreaterThanOrEqual(N);
    expect(embeddedInputs()).toBeLessThanOrEqual(N + 2 * WORKER_BATCH);
  });

  it('two instances: killing the lease holder lets the other one take the job over and finish it', async () => {
    await db.query(`TRUNCATE ai_searchable_entities`);
    server.reset();
    // Slow enough that the job outlives the start of both processes (4 worker loops, 30 requests of 1 s).
    server.delayMs = 1_000;
    const b = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url });
    apps.push(b);
    const bId = await b.line('READY');
    const a = spawnApp({ DATABASE_URL: getUrl(), OPENAI_BASE_URL: server.url, START_JOB: '1' });
    apps.push(a);
    const aId = await a.line('READY');
    const jobId = await a.line('JOB');

    await waitUntil('the producer lease is held', async () => Boolean((await job(jobId)).lease_owner), 30_000);
    await waitUntil('some work is done', async () => (await job(jobId)).processed >= N / 5, 60_000);
    const holder = (await job(jobId)).lease_owner as string;
    const [victim, survivorId] = holder === aId ? [a, bId] : [b, aId];
    await kill9(victim);
    server.delayMs = 0;

    await waitUntil('the job completed', async () => (await job(jobId)).status === 'COMPLETED', 90_000);
    const done = await job(jobId);
    expect(done).toMatchObject({ processed: N, failed: 0 });
    expect(await count(`SELECT count(*)::int AS n FROM ai_searchable_entities`)).toBe(N);
    // The survivor drove the producer to the end (or it was already done before the kill).
    expect([survivorId, null]).toContain(done.lease_owner);
  });
});
