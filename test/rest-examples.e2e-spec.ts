import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, type IndexingApp } from './fixtures/indexing-app.fixture';
import { ADMIN_TOKEN, VIEWER_TOKEN, webTestOptions } from './fixtures/web-auth.fixture';
import { describeEachEngine } from './support/test-database';

const run = promisify(execFile);
const EXAMPLES = resolve(__dirname, '../docs/examples');
const SCRIPT = resolve(EXAMPLES, 'migrate.sh');
const N = 120;

/** Environment variables migrate.sh reads (from its `${NAME:-…}` / `${NAME:?…}` expansions). */
function scriptVariables(): Set<string> {
  const text = readFileSync(SCRIPT, 'utf8');
  return new Set([...text.matchAll(/\$\{([A-Z_]+)(?::[-?])/g)].map((m) => m[1]));
}

/** Runs migrate.sh unchanged with bash; resolves with its exit code and output. */
async function migrate(env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('bash', [SCRIPT], { env: { PATH: process.env.PATH!, ...env }, timeout: 60_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** docs/examples/migrate.sh against a live server, and the CronJob / GitHub Actions examples that run it. */
describeEachEngine('REST examples', ({ getUrl }) => {
  let ctx: IndexingApp;
  let baseUrl: string;

  beforeAll(async () => {
    ctx = await bootIndexingApp({ databaseUrl: getUrl(), products: true, migration: {}, web: webTestOptions(), core: { liveIndexing: false } });
    await ctx.app.listen(0, '127.0.0.1');
    baseUrl = `http://127.0.0.1:${(ctx.app.getHttpServer().address() as AddressInfo).port}`;
    await insertProducts(ctx.dataSource, generatedProducts(N, 'script item'));
  });

  afterAll(async () => {
    await ctx?.close();
  });

  it('migrate.sh starts a job with the token, polls until COMPLETED and exits 0', async () => {
    const result = await migrate({ AI_API_URL: baseUrl, AI_API_TOKEN: ADMIN_TOKEN, ENTITY_TYPE: 'product', BATCH_SIZE: '50', POLL_SECONDS: '0.2' });
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toMatch(new RegExp(`Started migration job [0-9a-f-]{36} for product \\(${N} entities\\)`));
    expect(result.stdout).toMatch(/COMPLETED processed=120\/120 failed=0 skipped=0 100%/);
    expect(result.stdout).toMatch(/Job [0-9a-f-]{36} completed\.\n$/);
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs WHERE status = 'COMPLETED' AND created_by = 'ops-admin'`)).toBe(1);
    expect(await ctx.vectorStore.count('product')).toBe(N);
    // The token is not on curl's command line (it would show in `ps`).
    expect(readFileSync(SCRIPT, 'utf8')).not.toMatch(/curl[^\n]*AI_API_TOKEN/);
  });

  it('exits 2 with the server\'s message on a viewer token, an unknown entity type or an unreachable server, and asks for a missing token', async () => {
    const viewer = await migrate({ AI_API_URL: baseUrl, AI_API_TOKEN: VIEWER_TOKEN, POLL_SECONDS: '0.2' });
    expect(viewer.code).toBe(2);
    expect(viewer.stderr).toMatch(/Starting the migration failed with HTTP 403: The token "dashboard" has the role "viewer"/);
    const unknown = await migrate({ AI_API_URL: baseUrl, AI_API_TOKEN: ADMIN_TOKEN, ENTITY_TYPE: 'ticket' });
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringContaining('HTTP 400: Unknown entity type "ticket"; known types: product.') });
    const down = await migrate({ AI_API_URL: 'http://127.0.0.1:9', AI_API_TOKEN: ADMIN_TOKEN });
    expect(down).toMatchObject({ code: 2, stderr: expect.stringContaining('Cannot reach http://127.0.0.1:9') });
    const missing = await migrate({ AI_API_URL: baseUrl });
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('Set AI_API_TOKEN to an admin token');
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`)).toBe(1);
  });

  it('the Kubernetes CronJob and the GitHub Actions workflow run migrate.sh with variables it reads', () => {
    const variables = scriptVariables();
    expect([...variables]).toEqual(expect.arrayContaining(['AI_API_URL', 'AI_API_TOKEN', 'ENTITY_TYPE', 'POLL_SECONDS']));

    const cron = parse(readFileSync(resolve(EXAMPLES, 'k8s-cronjob.yaml'), 'utf8'));
    expect(cron).toMatchObject({ apiVersion: 'batch/v1', kind: 'CronJob', spec: { concurrencyPolicy: 'Forbid' } });
    const container = cron.spec.jobTemplate.spec.template.spec.containers[0];
    expect(container.command.join(' ')).toContain('bash /scripts/migrate.sh');
    for (const { name } of container.env) expect(variables).toContain(name);
    expect(container.env.find((e: { name: string }) => e.name === 'AI_API_TOKEN')).toMatchObject({ valueFrom: { secretKeyRef: { key: 'token' } } });

    const workflow = parse(readFileSync(resolve(EXAMPLES, 'github-actions.yml'), 'utf8'));
    const step = workflow.jobs.migrate.steps.find((s: { run?: string }) => s.run);
    expect(step.run).toBe('bash docs/examples/migrate.sh');
    for (const name of Object.keys(step.env)) expect(variables).toContain(name);
    expect(step.env.AI_API_TOKEN).toBe('${{ secrets.AI_API_TOKEN }}');
  });
});
