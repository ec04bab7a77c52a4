import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { PostgresServer, PostgresUnavailableError, startPostgresServer } from './postgres-server';

/** Where setup leaves what teardown must clean up; both run in Jest's parent process. */
export const TEST_RUN_HANDLE = Symbol.for('ai-infrastructure.test.run');

/** Resources owned by one Jest run. */
export interface TestRunResources {
  /** The cluster started for this run, unless TEST_PG_URL came from outside or PostgreSQL is not installed. */
  server?: PostgresServer;
  /** Scratch directory shared by all workers of the run (exported as TEST_RUN_DIR). */
  runDir: string;
}

/** globalThis with the run's resource slot, typed for setup and teardown. */
export type GlobalWithTestRun = typeof globalThis & { [TEST_RUN_HANDLE]?: TestRunResources };

/**
 * Jest global setup: one throwaway PostgreSQL+pgvector cluster per run, shared by every worker through
 * `TEST_PG_URL` (environment changes made here are inherited by the workers Jest spawns afterwards),
 * and a scratch directory `TEST_RUN_DIR`. An externally supplied `TEST_PG_URL` is used as is. Where
 * PostgreSQL or pgvector is not installed, CI fails the run, while a developer machine gets a warning
 * and PGlite-only tests.
 */
export default async function globalSetup(): Promise<void> {
  const resources: TestRunResources = { runDir: mkdtempSync(join(tmpdir(), 'ai-infra-test-run-')) };
  (globalThis as GlobalWithTestRun)[TEST_RUN_HANDLE] = resources;
  process.env.TEST_RUN_DIR = resources.runDir;
  if (process.env.TEST_PG_URL) return;

  let server: PostgresServer | undefined;
  try {
    server = await startPostgresServer();
    await assertPgvectorAvailable(server.url);
  } catch (error) {
    await server?.stop();
    if (!(error instanceof PostgresUnavailableError) || process.env.CI === 'true') {
      // Jest skips global teardown when setup throws, so clean up here.
      rmSync(resources.runDir, { recursive: true, force: true });
      throw error;
    }
    console.warn(`\n[test] ${error.message} Tests run against PGlite only; run .ci/install-postgres.sh to test PostgreSQL too.`);
    return;
  }
  resources.server = server;
  process.env.TEST_PG_URL = server.url;
}

/**
 * Runs `CREATE EXTENSION vector` inside a rolled-back transaction, so that each test database still
 * has to create the extension itself, as a production database would.
 */
async function assertPgvectorAvailable(url: string): Promise<void> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('BEGIN');
    await client.query('CREATE EXTENSION vector');
    await client.query(`SELECT '[1,2,3]'::vector`);
  } catch (error) {
    // 0A000 feature_not_supported is what PostgreSQL reports when the extension's files are not installed.
    if ((error as { code?: string }).code === '0A000') {
      throw new PostgresUnavailableError(
        `The pgvector extension is not installed for the PostgreSQL server at ${url} (${(error as Error).message}); install it with .ci/install-postgres.sh.`,
      );
    }
    throw error;
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    await client.end();
  }
}
