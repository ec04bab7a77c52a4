import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { Client } from 'pg';
import { EmbeddedPostgres } from '@ai-infrastructure/core/database/embedded-postgres';
import { generateProducts } from '../apps/sample/src/cli/product-generator';
import { createTestDatabase, engines, type Engine, type TestDatabase } from './support/test-database';

const ROOT = join(__dirname, '..');
const TS_NODE = require.resolve('ts-node/dist/bin.js');
/** Generous: a child pays ts-node start-up plus, on PGlite, opening (or on first use creating) the database. */
const CLI_TIMEOUT_MS = 90_000;

/** Variables that would point a child at another database or change how it starts, whatever this process has. */
const DATABASE_ENV = ['DATABASE_URL', 'AI_DATA_DIR', 'DB_MIGRATIONS_RUN', 'DB_POOL_SIZE'];

interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A database the CLI commands run against, and a way for the test to look inside it between commands. */
interface CliTarget {
  /** Environment that points the CLI at this database. */
  env: NodeJS.ProcessEnv;
  /** Runs `inspect` on a connection to the database; never while a CLI command is running (PGlite allows one process). */
  withClient<T>(inspect: (client: Client) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Runs a CLI entry point as `npm run seed` / `npm run db:*` do (ts-node --transpile-only with the path
 * aliases), calling the ts-node binary directly rather than through npx to spare each run npx's start-up.
 */
function runCli(script: 'seed' | 'db' | 'demo', args: string[], targetEnv: NodeJS.ProcessEnv): Promise<CliResult> {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  for (const name of DATABASE_ENV) delete env[name];
  Object.assign(env, targetEnv);
  const argv = [TS_NODE, '--transpile-only', '-r', 'tsconfig-paths/register', `apps/sample/src/cli/${script}.ts`, ...args];
  return new Promise((resolve) => {
    execFile(process.execPath, argv, { cwd: ROOT, env, timeout: CLI_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : null) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Fails with the command's whole output, which is what one needs to see when a CLI run goes wrong. */
function expectSuccess(result: CliResult): string {
  if (result.code !== 0) throw new Error(`The command exited with ${result.code}.\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`);
  return result.stdout;
}

/** The embedded database in a temporary data directory, reached by the CLI through AI_DATA_DIR. */
function embeddedTarget(): CliTarget {
  const dataDir = mkdtempSync(join(tmpdir(), 'seed-cli-e2e-'));
  return {
    env: { AI_DATA_DIR: dataDir },
    withClient: async (inspect) => {
      const db = await EmbeddedPostgres.start({ dataDir });
      try {
        return await withConnection(db.url, inspect);
      } finally {
        await db.close();
      }
    },
    close: async () => rmSync(dataDir, { recursive: true, force: true }),
  };
}

/** A fresh database on the test PostgreSQL server, reached by the CLI through DATABASE_URL. */
async function serverTarget(): Promise<CliTarget> {
  const database: TestDatabase = await createTestDatabase('postgres');
  return {
    env: { DATABASE_URL: database.url },
    withClient: (inspect) => withConnection(database.url, inspect),
    close: () => database.close(),
  };
}

async function withConnection<T>(url: string, inspect: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await inspect(client);
  } finally {
    await client.end();
  }
}

async function countRows(client: Client, table: string): Promise<number> {
  return (await client.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`)).rows[0].n;
}

/** The same walk through the CLI on each engine: status, migrate, seed twice, check nothing got indexed, revert. */
describe.each(engines().map((engine) => [engine] as [Engine]))('seed and db CLI [%s]', (engine) => {
  let target: CliTarget;

  beforeAll(async () => {
    // The embedded database opened for inspection announces every start; only problems are worth printing.
    Logger.overrideLogger(['error', 'warn']);
    target = engine === 'pglite' ? embeddedTarget() : await serverTarget();
  });

  afterAll(async () => {
    await target?.close();
  });

  it('db:status lists every migration as pending on a new database', async () => {
    const stdout = expectSuccess(await runCli('db', ['status'], target.env));

    expect(stdout).toContain('13 migrations, 0 applied, 13 pending.');
    expect(stdout).toMatch(/pending\s+AiCoreInit1732100000000/);
    expect(stdout).toMatch(/pending\s+AiMigrationJobs1732100000500/);
    expect(stdout).toMatch(/pending\s+AiMigrationAuditLog1732100000600/);
    expect(stdout).toMatch(/pending\s+AiIndexingQueueOwnerLookups1732100000700/);
    expect(stdout).toMatch(/pending\s+AiIndexGenerations1732100000900/);
    expect(stdout).toMatch(/pending\s+AiMigrationGenerations1732100000950/);
    expect(stdout).toMatch(/pending\s+AiProviderUsage1732100000960/);
    expect(stdout).toMatch(/pending\s+AiMigrationJobsUsage1732100000970/);
    expect(stdout).toMatch(/pending\s+AiProviderCapacity1732100000980/);
    expect(stdout).toMatch(/pending\s+CreateProducts1732100001000/);
  });

  it('db:migrate runs the pending migrations, and db:status then shows them applied', async () => {
    const migrated = expectSuccess(await runCli('db', ['migrate'], target.env));
    expect(migrated).toContain('Ran 13 migrations:');
    expect(migrated).toContain('AiCoreInit1732100000000');
    expect(migrated).toContain('AiMigrationJobs1732100000500');
    expect(migrated).toContain('AiMigrationAuditLog1732100000600');
    expect(migrated).toContain('AiIndexingQueueOwnerLookups1732100000700');
    expect(migrated).toContain('AiProviderCapacity1732100000980');
    expect(migrated).toContain('CreateProducts1732100001000');

    const stdout = expectSuccess(await runCli('db', ['status'], target.env));
    expect(stdout).toContain('13 migrations, 13 applied, 0 pending.');
    expect(stdout).toMatch(/applied #1\s+AiCoreInit1732100000000\s+recorded timestamp 1732100000000/);
    expect(stdout).toMatch(/applied #2\s+AiMigrationJobs1732100000500/);
    expect(stdout).toMatch(/applied #3\s+AiMigrationAuditLog1732100000600/);
    expect(stdout).toMatch(/applied #4\s+AiIndexingQueueOwnerLookups1732100000700/);
    expect(stdout).toMatch(/applied #5\s+AiMigrationJobsScanned1732100000800/);
    expect(stdout).toMatch(/applied #6\s+AiIndexGenerations1732100000900/);
    expect(stdout).toMatch(/applied #7\s+AiMigrationGenerations1732100000950/);
    expect(stdout).toMatch(/applied #8\s+AiProviderUsage1732100000960/);
    expect(stdout).toMatch(/applied #9\s+AiMigrationJobsUsage1732100000970/);
    expect(stdout).toMatch(/applied #11\s+AiProviderCapacity1732100000980/);
    expect(stdout).toMatch(/applied #13\s+CreateProducts1732100001000/);
  });

  it('seed inserts exactly the requested products, and running it again inserts none, without indexing any', async () => {
    const first = expectSuccess(await runCli('seed', ['--count', '500'], target.env));
    expect(first).toMatch(/Done: 500 rows inserted of 500 processed, [\d.]+ s elapsed, [\d,]+ rows\/s\./);

    const second = expectSuccess(await runCli('seed', ['--count', '500'], target.env));
    expect(second).toMatch(/Done: 0 rows inserted \(500 already present\) of 500 processed/);

    const state = await target.withClient(async (client) => ({
      ids: (await client.query<{ id: string }>(`SELECT id FROM products ORDER BY id`)).rows.map((row) => row.id),
      vectors: await countRows(client, 'ai_searchable_entities'),
      queued: await countRows(client, 'ai_indexing_queue'),
    }));
    // Exactly the generator's first 500 products of the default seed: nothing more, nothing missing.
    expect(state.ids).toEqual([...generateProducts(42, 0, 500)].map((p) => p.id).sort());
    // The seed models data that existed before AI search was added: no vectors, no queued indexing work.
    expect(state.vectors).toBe(0);
    expect(state.queued).toBe(0);
  });

  it('npm run demo backfills the seeded catalogue with a progress report and searches it; a second run skips everything', async () => {
    const first = expectSuccess(await runCli('demo', [], target.env));
    expect(first).toContain('The catalogue has 500 products.');
    expect(first).toMatch(/\[#{30}\] 100\.0%  500\/500/);
    expect(first).toContain('Job COMPLETED: 500 embedded, 0 already up to date, 0 failed, of 500');
    expect(first).toMatch(/Search "waterproof hiking boots":\n  \d\.\d{3}  \S/);
    const vectors = await target.withClient((client) => countRows(client, 'ai_searchable_entities'));
    expect(vectors).toBe(500);

    const second = expectSuccess(await runCli('demo', [], target.env));
    expect(second).toContain('Job COMPLETED: 0 embedded, 500 already up to date, 0 failed, of 500');
  });

  it('db:revert undoes the last migration and names it; the queue index migration reverts to the previous indexes', async () => {
    const stdout = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(stdout).toContain('Reverted CreateProducts1732100001000 (applied #13). 12 migrations still applied.');

    const after = await target.withClient(async (client) => ({
      products: (await client.query<{ t: string | null }>(`SELECT to_regclass('products')::text AS t`)).rows[0].t,
      applied: (await client.query<{ name: string }>(`SELECT name FROM migrations ORDER BY id`)).rows.map((row) => row.name),
    }));
    expect(after.products).toBeNull();
    expect(after.applied).toEqual([
      'AiCoreInit1732100000000',
      'AiMigrationJobs1732100000500',
      'AiMigrationAuditLog1732100000600',
      'AiIndexingQueueOwnerLookups1732100000700',
      'AiMigrationJobsScanned1732100000800',
      'AiIndexGenerations1732100000900',
      'AiMigrationGenerations1732100000950',
      'AiProviderUsage1732100000960',
      'AiMigrationJobsUsage1732100000970',
      'AiMigrationJobsMode1732100000975',
      'AiProviderCapacity1732100000980',
      'AiEmbeddingBatches1732100000990',
    ]);
    const batches = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(batches).toContain('Reverted AiEmbeddingBatches1732100000990 (applied #12). 11 migrations still applied.');
    expect(await target.withClient(async (client) => (await client.query(`SELECT to_regclass('ai_embedding_batches')::text AS t`)).rows[0].t)).toBeNull();
    const capacity = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(capacity).toContain('Reverted AiProviderCapacity1732100000980 (applied #11). 10 migrations still applied.');
    expect(await target.withClient(async (client) => (await client.query(`SELECT to_regclass('ai_provider_capacity')::text AS t`)).rows[0].t)).toBeNull();
    const jobsMode = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(jobsMode).toContain('Reverted AiMigrationJobsMode1732100000975 (applied #10). 9 migrations still applied.');
    const jobsUsage = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(jobsUsage).toContain('Reverted AiMigrationJobsUsage1732100000970 (applied #9). 8 migrations still applied.');
    expect(
      await target.withClient(async (client) =>
        (await client.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'ai_migration_jobs' AND column_name IN ('tokens_used', 'pause_reason')`)).rowCount,
      ),
    ).toBe(0);
    const providerUsage = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(providerUsage).toContain('Reverted AiProviderUsage1732100000960 (applied #8). 7 migrations still applied.');
    expect(await target.withClient(async (client) => (await client.query(`SELECT to_regclass('ai_provider_usage')::text AS t`)).rows[0].t)).toBeNull();
    const jobGenerations = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(jobGenerations).toContain('Reverted AiMigrationGenerations1732100000950 (applied #7). 6 migrations still applied.');
    const coreGenerations = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(coreGenerations).toContain('Reverted AiIndexGenerations1732100000900 (applied #6). 5 migrations still applied.');
    // The vectors the demo stored stay, one row per entity again (the serving generation's).
    expect(
      await target.withClient(async (client) => ({
        generations: (await client.query(`SELECT to_regclass('ai_index_generations')::text AS t`)).rows[0].t,
        vectors: (await client.query(`SELECT count(*)::int AS n FROM ai_searchable_entities`)).rows[0].n,
        key: (await client.query(`SELECT pg_get_constraintdef(oid) AS def FROM pg_constraint WHERE conname = 'ai_searchable_entities_pk'`)).rows[0].def,
      })),
    ).toEqual({ generations: null, vectors: 500, key: 'PRIMARY KEY (entity_type, entity_id)' });
    const scanned = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(scanned).toContain('Reverted AiMigrationJobsScanned1732100000800 (applied #5). 4 migrations still applied.');
    expect(
      await target.withClient(async (client) =>
        (await client.query(`SELECT 1 FROM information_schema.columns WHERE table_name = 'ai_migration_jobs' AND column_name = 'scanned_entities'`)).rowCount,
      ),
    ).toBe(0);

    const queueIndexes = (client: Client) =>
      client
        .query<{ def: string }>(`SELECT indexdef AS def FROM pg_indexes WHERE tablename = 'ai_indexing_queue' ORDER BY indexname`)
        .then((result) => result.rows.map((row) => row.def.replace(/^.* USING /, '')));
    // By name: claim, dead, lease, pending_uq, pkey.
    expect(await target.withClient(queueIndexes)).toEqual([
      expect.stringMatching(/^btree \(priority DESC, id\)/),
      `btree (owner) WHERE ((status)::text = 'DEAD'::text)`,
      `btree (lease_expires_at) WHERE ((status)::text = 'ACTIVE'::text)`,
      expect.stringMatching(/^btree \(COALESCE\(owner, ''::character varying\), entity_type, entity_id\) WHERE/),
      'btree (id)',
    ]);
    const reverted = expectSuccess(await runCli('db', ['revert'], target.env));
    expect(reverted).toContain('Reverted AiIndexingQueueOwnerLookups1732100000700 (applied #4). 3 migrations still applied.');
    // By name: claim, lease, owner, pending_uq, pkey.
    expect(await target.withClient(queueIndexes)).toEqual([
      expect.stringMatching(/^btree \(priority DESC, id\)/),
      `btree (lease_expires_at) WHERE ((status)::text = 'ACTIVE'::text)`,
      'btree (owner, status) WHERE (owner IS NOT NULL)',
      expect.stringMatching(/^btree \(entity_type, entity_id, COALESCE\(owner, ''::character varying\)\) WHERE/),
      'btree (id)',
    ]);
    // Eight CLI processes, each a cold ts-node start.
  }, 300_000);
});

describe('seed and db CLI usage errors', () => {
  // Both answer before touching a database, so no target is needed.
  it('names the flag and the bad value, exiting with 2', async () => {
    const result = await runCli('seed', ['--count', 'abc'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--count must be a positive integer, got 'abc'.");
    expect(result.stderr).toContain('Usage: npm run seed');
  });

  it('rejects an unknown db command with the usage message, exiting with 2', async () => {
    const result = await runCli('db', ['upgrade'], {});
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("Unknown command 'upgrade'. Use one of: migrate, status, revert.");
  });
});
