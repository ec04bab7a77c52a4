import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedPostgres } from '@ai-infrastructure/core/database/embedded-postgres';
import { Logger } from '@nestjs/common';

// EmbeddedPostgres's start-up lines ("listening at …") would print once per suite and in the global setup;
// the apps the suites boot set their own log levels.
Logger.overrideLogger(['error', 'warn']);

/** Database engine a suite runs against: embedded PGlite, or the real PostgreSQL cluster from global setup. */
export type Engine = 'pglite' | 'postgres';

/** A database owned by one suite. */
export interface TestDatabase {
  /** Connection string for `pg` / TypeORM. */
  url: string;
  engine: Engine;
  /** Drops the database (PostgreSQL) or stops it (PGlite). Idempotent. */
  close(): Promise<void>;
}

/** What {@link describeEachEngine} hands each suite body. */
export interface EngineContext {
  engine: Engine;
  /** URL of the suite's database; only valid inside hooks and tests, after the suite's beforeAll ran. */
  getUrl(): string;
}

/**
 * Engines available to this run: PGlite always, PostgreSQL when global setup (or the caller) provided
 * `TEST_PG_URL`. In CI a missing PostgreSQL is an error, so that no suite silently loses coverage.
 */
export function engines(env: NodeJS.ProcessEnv = process.env): Engine[] {
  if (env.TEST_PG_URL) return ['pglite', 'postgres'];
  if (env.CI === 'true') {
    throw new Error('TEST_PG_URL is not set although CI=true; the Jest global setup should have started PostgreSQL, so check its output.');
  }
  return ['pglite'];
}

/**
 * A fresh, empty database. On PostgreSQL it is a uniquely named database on the shared cluster, so
 * suites in parallel workers never see each other's tables; on PGlite it is a private EmbeddedPostgres
 * on a temporary data directory. Neither has the vector extension created yet: code under test must
 * run `CREATE EXTENSION`, as in production.
 */
export async function createTestDatabase(engine: Engine): Promise<TestDatabase> {
  if (engine === 'pglite') {
    const dataDir = await freshPgliteDataDir();
    const embedded = await EmbeddedPostgres.start(dataDir ? { dataDir } : { inMemory: true });
    let closing: Promise<void> | undefined;
    return {
      url: embedded.url,
      engine,
      close: () => {
        closing ??= embedded.close().finally(() => dataDir && rmSync(dataDir, { recursive: true, force: true }));
        return closing;
      },
    };
  }

  const adminUrl = process.env.TEST_PG_URL;
  if (!adminUrl) throw new Error('TEST_PG_URL is not set, so there is no PostgreSQL cluster to create a test database on.');
  const name = `test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdminClient(adminUrl, (client) => client.query(`CREATE DATABASE "${name}"`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;

  let closing: Promise<void> | undefined;
  return {
    url: url.toString(),
    engine,
    close: () => {
      // FORCE terminates connections a suite left open (e.g. an unclosed pool), which would otherwise block the drop.
      closing ??= withAdminClient(adminUrl, (client) => client.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`)).then(() => undefined);
      return closing;
    },
  };
}

/**
 * Declares `describe(title [engine])` once per available engine, each with its own database created in
 * beforeAll and closed in afterAll.
 *
 * @example
 * describeEachEngine('VectorStore', ({ getUrl }) => {
 *   it('stores vectors', async () => { const client = new Client(getUrl()); ... });
 * });
 *
 * `only` limits the suite to some engines (e.g. `['postgres']` for the HNSW index, which PGlite does not
 * use); like the others, the suite is then not declared at all on a run without that engine.
 */
export function describeEachEngine(title: string, fn: (ctx: EngineContext) => void, only?: Engine[]): void {
  for (const engine of engines().filter((e) => !only || only.includes(e))) {
    describe(`${title} [${engine}]`, () => {
      let database: TestDatabase | undefined;
      beforeAll(async () => {
        database = await createTestDatabase(engine);
      });
      fn({
        engine,
        getUrl: () => {
          if (!database) throw new Error(`The ${engine} test database for "${title}" is not ready; call getUrl() inside a hook or test, not while declaring the suite.`);
          return database.url;
        },
      });
      // Declared after the body: Jest runs afterAll hooks in declaration order, so the suite's own cleanup
      // (ending its pools) happens before the database disappears underneath it.
      afterAll(async () => {
        await database?.close();
      });
    });
  }
}

/** How long a worker waits for another worker's PGlite template before giving up on it. */
const TEMPLATE_WAIT_MS = 120_000;

/**
 * A copy of an initialised, empty PGlite data directory, or undefined outside a Jest run with global setup.
 * PGlite needs ~5 s to initialise a cluster (in memory too) but well under a second to open one, so the
 * first suite of the run to need PGlite builds a template and every other one copies it.
 */
async function freshPgliteDataDir(): Promise<string | undefined> {
  const runDir = process.env.TEST_RUN_DIR;
  if (!runDir || !existsSync(runDir)) return undefined;
  const template = await pgliteTemplate(runDir);
  const dataDir = mkdtempSync(join(runDir, 'pglite-'));
  cpSync(template, dataDir, { recursive: true });
  return dataDir;
}

/**
 * Builds the run's template once. Workers are separate processes, so an exclusive mkdir elects the
 * builder; the others wait instead of also building, which would only slow everyone down.
 */
async function pgliteTemplate(runDir: string): Promise<string> {
  const template = join(runDir, 'pglite-template');
  const buildLock = `${template}.building`;
  if (existsSync(template)) return template;
  try {
    mkdirSync(buildLock);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    const deadline = Date.now() + TEMPLATE_WAIT_MS;
    while (!existsSync(template)) {
      if (!existsSync(buildLock)) return pgliteTemplate(runDir); // the builder failed; try building ourselves
      if (Date.now() > deadline) throw new Error(`No PGlite template appeared in ${template} within ${TEMPLATE_WAIT_MS} ms.`);
      await new Promise((done) => setTimeout(done, 100));
    }
    return template;
  }
  try {
    const build = mkdtempSync(join(runDir, 'pglite-build-'));
    await (await EmbeddedPostgres.start({ dataDir: build })).close();
    // The rename publishes the finished template atomically, so waiters never copy a half-built one.
    renameSync(build, template);
    return template;
  } finally {
    rmSync(buildLock, { recursive: true, force: true });
  }
}

async function withAdminClient<T>(url: string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}
