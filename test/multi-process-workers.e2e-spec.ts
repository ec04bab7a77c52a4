import { spawn, type ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { IndexingPriority } from '@ai-infrastructure/core';
import { Pool } from 'pg';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, type IndexingApp } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

const ROOT = resolve(__dirname, '..');
const WORKER_SCRIPT = resolve(__dirname, 'fixtures/worker-process.ts');
const PRODUCTS = 3_000;
const CHILD_TIMEOUT_MS = 150_000;

/** A spawned worker process and what it reported over IPC. */
interface WorkerChild {
  tag: string;
  process: ChildProcess;
  ready: Promise<void>;
  exited: Promise<number | null>;
  reported?: number;
  output: string;
}

function spawnWorker(tag: string, databaseUrl: string): WorkerChild {
  const child = spawn(
    process.execPath,
    ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', WORKER_SCRIPT],
    {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: databaseUrl, WORKER_TAG: tag, WORKER_POOL_SIZE: '4', WORKER_BATCH_SIZE: '50' },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    },
  );
  const worker: WorkerChild = { tag, process: child, output: '', ready: undefined as never, exited: undefined as never };
  child.stdout!.on('data', (chunk) => (worker.output += chunk));
  child.stderr!.on('data', (chunk) => (worker.output += chunk));
  worker.exited = new Promise((done) => child.once('exit', (code) => done(code)));
  worker.ready = new Promise((done, fail) => {
    child.on('message', (message: { type: string; indexed?: number }) => {
      if (message.type === 'ready') done();
      if (message.type === 'done') worker.reported = message.indexed;
    });
    void worker.exited.then((code) => fail(new Error(`worker ${tag} exited with code ${code} before it was ready:\n${worker.output}`)));
  });
  return worker;
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<never>((_, fail) => (timer = setTimeout(() => fail(new Error(`Timed out after ${ms} ms waiting for ${what}.`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

describeEachEngine('Worker processes sharing one queue', ({ getUrl }) => {
  let ctx: IndexingApp;

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), core: { worker: { enabled: false }, liveIndexing: false } });
    await ctx.dataSource.query(`CREATE TABLE test_outcomes (id bigserial PRIMARY KEY, entity_id text NOT NULL, tag text NOT NULL)`);
  });

  afterAll(async () => {
    await ctx?.close();
  });

  // Precondition of every multi-process (and multi-connection) use of the database, and a regression guard on
  // PGlite: the embedded database used to serve connections through pglite-socket 0.2.17, which schedules
  // single protocol messages rather than whole Parse/Bind/Execute/Sync units across connections
  // (electric-sql/pglite#1046). These suites hit it as "unnamed prepared statement does not exist" on the
  // worker's claim query and a SELECT count(*) resolving with no row; this load fails at once against that
  // server ('portal "" does not exist'). Fixed by libs/core/src/database/pglite-wire-server.ts.
  it('answers a mixed load from eight connections with each connection\'s own results', async () => {
    const pool = new Pool({ connectionString: getUrl(), max: 8 });
    pool.on('error', () => undefined);
    const big = 'y'.repeat(200_000);
    try {
      await pool.query(`CREATE TABLE test_counters (id int PRIMARY KEY, v int NOT NULL DEFAULT 0)`);
      await pool.query(`INSERT INTO test_counters SELECT g FROM generate_series(0, 7) g`);
      const failures: string[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async (_, w) => {
          const client = await pool.connect();
          try {
            for (let i = 0; i < 60; i++) {
              const kind = (i + w) % 4;
              try {
                if (kind === 0) {
                  const { rows } = await client.query(`SELECT $1::int AS a, $2::text AS b`, [i, `w${w}`]);
                  if (rows.length !== 1 || rows[0].a !== i || rows[0].b !== `w${w}`) failures.push(`extended: ${JSON.stringify(rows)}`);
                } else if (kind === 1) {
                  const { rows } = await client.query(`SELECT ${w * 1000 + i} AS s`);
                  if (rows.length !== 1 || rows[0].s !== w * 1000 + i) failures.push(`simple: ${JSON.stringify(rows)}`);
                } else if (kind === 2) {
                  await client.query('BEGIN');
                  const { rows } = await client.query(`UPDATE test_counters SET v = v + 1 WHERE id = $1 RETURNING id`, [w]);
                  await client.query('COMMIT');
                  if (rows.length !== 1 || rows[0].id !== w) failures.push(`transaction: ${JSON.stringify(rows)}`);
                } else {
                  const { rows } = await client.query(`SELECT length($1::text) AS len, $2::int AS k`, [big, i]);
                  if (rows.length !== 1 || rows[0].len !== big.length || rows[0].k !== i) failures.push(`large: ${JSON.stringify(rows).slice(0, 80)}`);
                }
              } catch (error) {
                failures.push(`query kind ${kind} failed: ${(error as Error).message}`);
                await client.query('ROLLBACK').catch(() => undefined);
              }
            }
          } finally {
            client.release();
          }
        }),
      );
      expect(failures.slice(0, 5)).toEqual([]);
      expect((await pool.query(`SELECT sum(v)::int AS total FROM test_counters`)).rows).toEqual([{ total: 8 * 15 }]);
    } finally {
      await pool.end();
    }
  });

  // On PGlite, three processes' connections share the embedded server at once (pools of 5 + 4 + 4, within its 20).
  it('two worker processes drain one queue with no item indexed twice', async () => {
    const ids = await insertProducts(ctx.dataSource, generatedProducts(PRODUCTS, 'multi'));
    const workers = [spawnWorker('A', getUrl()), spawnWorker('B', getUrl())];
    try {
      await withTimeout(Promise.all(workers.map((w) => w.ready)), 60_000, 'both worker processes to start');
      // Enqueued only once both processes poll the queue, so the work is really shared.
      expect(await ctx.queue.enqueue(ids.map((entityId) => ({ entityType: 'product', entityId, priority: IndexingPriority.LOW })))).toBe(PRODUCTS);
      workers.forEach((w) => w.process.send({ type: 'go' }));
      const codes = await withTimeout(Promise.all(workers.map((w) => w.exited)), CHILD_TIMEOUT_MS, 'both worker processes to drain the queue');
      expect({ codes, output: codes.some((c) => c !== 0) ? workers.map((w) => w.output).join('\n') : '' }).toEqual({ codes: [0, 0], output: '' });
    } finally {
      for (const w of workers) if (w.process.exitCode === null && w.process.signalCode === null) w.process.kill('SIGKILL');
    }

    expect(await ctx.vectorStore.count('product')).toBe(PRODUCTS);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_indexing_queue`)).toBe(0);
    const [totals] = await ctx.dataSource.query(
      `SELECT count(*)::int AS outcomes, count(DISTINCT entity_id)::int AS entities FROM test_outcomes`,
    );
    expect(totals).toEqual({ outcomes: PRODUCTS, entities: PRODUCTS });
    expect(
      await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM test_outcomes o JOIN products p ON p.id::text = o.entity_id`),
    ).toBe(PRODUCTS);

    const perWorker: Array<{ tag: string; n: number }> = await ctx.dataSource.query(
      `SELECT tag, count(*)::int AS n FROM test_outcomes GROUP BY tag ORDER BY tag`,
    );
    expect(perWorker.map((r) => r.tag)).toEqual(['A', 'B']);
    perWorker.forEach((r) => expect(r.n).toBeGreaterThan(0));
    // What each process saw in the table matches what it reported.
    expect(workers.map((w) => w.reported)).toEqual(perWorker.map((r) => r.n));
  });
});
