import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DataMigrationService, MigrationStatus } from '@ai-infrastructure/migration-core';
import { bootIndexingApp, countOf, generatedProducts, insertProducts, SAMPLE_ENTITY_CONFIG, waitUntil, type IndexingApp } from './fixtures/indexing-app.fixture';
import { bootOpenAiWebApp } from './fixtures/openai-web-app.fixture';
import { ADMIN_TOKEN, VIEWER_TOKEN, webTestOptions } from './fixtures/web-auth.fixture';
import { buildAiMigrateCli, runAiMigrate, runAiMigrateInTerminal, type CliRun } from './support/ai-migrate-cli';
import { CapturedLogger } from './support/captured-logger';
import { startFakeOpenAiServer, type FakeOpenAiServer } from './support/fake-openai-server';
import { describeEachEngine } from './support/test-database';

const N = 120;
const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
/** A timestamped progress line, as the CLI prints it when stdout is not a terminal. */
const PROGRESS_LINE = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z job \S+ [A-Z]+/m;

/** The job id of a "Started job <id>" line. */
function startedId(run: CliRun): string {
  const match = new RegExp(`^Started job (${UUID})`).exec(run.stdout);
  if (!match) throw new Error(`No "Started job <id>" in the output (exit ${run.code}):\n${run.stdout}\n${run.stderr}`);
  return match[1];
}

/** A port nothing listens on (bound, then released). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

/**
 * Issue 15, part 1: the `ai-migrate` CLI, compiled from libs/web/src/cli and run as a child process against
 * a live app (real HTTP, the real openai client embedding through a local OpenAI-compatible server), on
 * both engines. Every command, the exit codes, the plain lines of a log, the JSON lines of a script and the
 * progress bar on a pseudo-terminal.
 */
describeEachEngine('ai-migrate CLI', ({ getUrl }) => {
  let ctx: IndexingApp;
  let server: FakeOpenAiServer;
  let cli: ReturnType<typeof buildAiMigrateCli>;
  let url: string;
  let ids: string[];
  let admin: Record<string, string>;
  let dir: string;
  const run = (args: string[], env: Record<string, string> = admin) => runAiMigrate(cli.entry, args, env);
  const progressOf = (id: string) => ctx.app.get(DataMigrationService).getProgress(id);

  beforeAll(async () => {
    cli = buildAiMigrateCli();
    dir = mkdtempSync(join(tmpdir(), 'ai-migrate-cli-'));
    server = await startFakeOpenAiServer({ dimensions: 32 });
    ctx = await bootOpenAiWebApp(getUrl(), server, { worker: { batchSize: 10 }, liveIndexing: false });
    await ctx.app.listen(0, '127.0.0.1');
    url = `http://127.0.0.1:${(ctx.app.getHttpServer().address() as AddressInfo).port}`;
    admin = { AI_MIGRATION_URL: url, AI_MIGRATION_TOKEN: ADMIN_TOKEN };
    ids = await insertProducts(ctx.dataSource, generatedProducts(N, 'cli item'));
  }, 120_000);

  afterEach(() => {
    server.delayMs = 0;
    server.injectFaults(null);
  });

  afterAll(async () => {
    await ctx?.close();
    await server?.close();
    cli?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts a job that stays RUNNING for seconds (every provider answer takes 1 s); returns its id. */
  async function slowJob(): Promise<string> {
    server.delayMs = 1_000;
    const started = await run(['start', 'product', '--reindex-existing']);
    expect(started).toMatchObject({ code: 0, stderr: '' });
    return startedId(started);
  }

  it('start --dry-run prints the estimate and starts nothing; with --json the estimate is the API answer', async () => {
    const text = await run(['start', 'product', '--dry-run']);
    expect(text).toMatchObject({ code: 0, stderr: '' });
    expect(text.stdout).toMatch(/^Matching\s+120$/m);
    expect(text.stdout).toMatch(/^Would embed\s+120$/m);
    expect(text.stdout).toMatch(/^Tokens\s+[\d,]+ \((tokenizer|calibrated-estimate|byte-estimate)\)$/m);
    const json = await run(['start', 'product', '--dry-run', '--json']);
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ entityType: 'product', matching: N, wouldSkip: 0, wouldEmbed: N, estimatedTokens: expect.any(Number) });
    expect(await countOf(ctx.dataSource, `SELECT count(*)::int AS n FROM ai_migration_jobs`)).toBe(0);
    expect(server.embeddingRequests).toHaveLength(0);
  });

  it('start --wait without a terminal: the started line, timestamped progress lines, how it ended with the spend; exit 0', async () => {
    const result = await run(['start', 'product', '--batch-size', '40', '--wait', '--log-interval', '0']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const id = startedId(result);
    expect(result.stdout).toMatch(new RegExp(`^Started job ${id} for product \\(120 entities\\)\\.$`, 'm'));
    expect(result.stdout).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT[\\d:.]+Z job ${id} COMPLETED 100\\.0% processed 120/120 skipped 0 failed 0 rate [\\d.]+/s ETA \\S+ spend \\$\\d+\\.\\d{4}$`, 'm'),
    );
    const progress = await progressOf(id);
    expect(progress).toMatchObject({ status: MigrationStatus.COMPLETED, progress: { processed: N, failed: 0 } });
    expect(progress.usage.tokensUsed).toBeGreaterThan(0);
    const tokens = progress.usage.tokensUsed.toLocaleString('en-US');
    expect(result.stdout.trimEnd().split('\n').pop()).toMatch(new RegExp(`^Job ${id} COMPLETED: 120 processed, 0 skipped, 0 failed of 120 in \\S+( \\S+)?; ${tokens} tokens, \\$\\d+\\.\\d{4}\\.$`));
    expect(await ctx.vectorStore.count('product')).toBe(N);
  });

  it('--json --wait prints one JSON object per line: the job, then its snapshots up to COMPLETED', async () => {
    const result = await run(['start', 'product', '--reindex-existing', '--wait', '--json']);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    const lines = result.stdout.trimEnd().split('\n').map((line) => JSON.parse(line));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    expect(lines[0]).toMatchObject({ id: expect.stringMatching(new RegExp(`^${UUID}$`)), entityType: 'product', reindexExisting: true, createdBy: 'ops-admin' });
    expect(lines.at(-1)).toMatchObject({ jobId: lines[0].id, status: 'COMPLETED', progress: { total: N, processed: N, failed: 0, percentComplete: 100 } });
    for (const snapshot of lines.slice(1)) expect(snapshot).toMatchObject({ jobId: lines[0].id, usage: expect.any(Object) });
  });

  it('on a terminal --wait draws a progress bar in place, hides the cursor while it runs and restores it', async () => {
    const result = await runAiMigrateInTerminal(cli.entry, ['start', 'product', '--reindex-existing', '--wait'], admin);
    expect(result.code).toBe(0);
    const screen = result.stdout;
    const id = startedId({ ...result, stdout: screen.replace(/^[^S]*/, '') });
    expect(screen).toContain('\u001b[?25l');
    expect(screen).toContain('\u001b[?25h');
    expect(screen).toMatch(/\u2588{24} 100\.0% \| 120\/120 processed, 0 skipped \| [\d.]+\/s \| ETA \S+ \| failed 0 \| \$\d+\.\d{4} \| COMPLETED/);
    expect(screen).toContain(`Job ${id} COMPLETED: 120 processed`);
    // The bar, not the log lines.
    expect(screen).not.toMatch(PROGRESS_LINE);
  });

  it('pause, status --watch (exit 3 while PAUSED), rethrottle, resume --wait, audit', async () => {
    const id = await slowJob();
    const paused = await run(['pause', id, '--reason', 'peak hours']);
    expect(paused).toMatchObject({ code: 0, stderr: '' });
    expect(paused.stdout).toMatch(new RegExp(`^Paused job ${id}\\.$`, 'm'));
    expect(paused.stdout).toMatch(/^Status\s+PAUSED \(OPERATOR\)$/m);

    const watched = await run(['status', id, '--watch']);
    expect(watched.code).toBe(3);
    expect(watched.stdout).toMatch(new RegExp(`Job ${id} is PAUSED \\(OPERATOR\\) at [\\d.]+% .*; resume it with: ai-migrate resume ${id} --wait`));

    const shown = await run(['status', id]);
    expect(shown).toMatchObject({ code: 0, stderr: '' });
    expect(shown.stdout).toMatch(/^Progress\s+[\d.]+%: [\d,]+ processed, 0 skipped, 0 failed of 120$/m);

    const changed = await run(['rethrottle', id, '--rate-limit', '6000', '--max-cost', '5']);
    expect(changed).toMatchObject({ code: 0, stderr: '' });
    expect(changed.stdout).toMatch(/^Rate limit\s+6,000 requests\/min$/m);
    expect(changed.stdout).toMatch(/^Budget\s+\$5\.00$/m);
    const removed = await run(['rethrottle', id, '--max-cost', 'none']);
    expect(removed.stdout).toMatch(/^Budget\s+none$/m);

    server.delayMs = 0;
    const resumed = await run(['resume', id, '--wait']);
    expect(resumed).toMatchObject({ code: 0, stderr: '' });
    expect(resumed.stdout).toMatch(new RegExp(`^Resumed job ${id} for product`, 'm'));
    expect(resumed.stdout).toMatch(new RegExp(`^Job ${id} COMPLETED: 120 processed`, 'm'));

    const audit = await run(['audit', id]);
    expect(audit).toMatchObject({ code: 0, stderr: '' });
    const actions = audit.stdout.trimEnd().split('\n').slice(1).map((line) => line.split(/\s{2,}/).slice(1, 5));
    expect(actions).toEqual([
      ['ops-admin', 'start', '-', 'RUNNING'],
      ['ops-admin', 'pause', 'RUNNING', 'PAUSED'],
      // One PATCH with a budget and a rate limit: the budget is applied first.
      ['ops-admin', 'budget', 'PAUSED', 'PAUSED'],
      ['ops-admin', 'rethrottle', 'PAUSED', 'PAUSED'],
      ['ops-admin', 'budget', 'PAUSED', 'PAUSED'],
      ['ops-admin', 'resume', 'PAUSED', 'RUNNING'],
    ]);
    expect(JSON.parse((await run(['audit', id, '--json'])).stdout)).toHaveLength(6);
  });

  it('cancel ends a running job (status --watch then exits 1); status lists no active job; a second start is refused while one runs (exit 6)', async () => {
    const id = await slowJob();
    const second = await run(['start', 'product']);
    expect(second.code).toBe(6);
    expect(second.stderr).toContain(`Active job(s): ${id}`);

    const active = await run(['status']);
    expect(active.stdout).toMatch(new RegExp(`^${id}  product  BACKFILL  RUNNING`, 'm'));
    const cancelled = await run(['cancel', id]);
    expect(cancelled).toMatchObject({ code: 0, stderr: '' });
    expect(cancelled.stdout).toMatch(new RegExp(`^Job ${id} was CANCELLED \\(`));
    const watched = await run(['status', id, '--watch']);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toContain(`Job ${id} was CANCELLED`);
    expect((await run(['status'])).stdout).toBe('No active jobs. List past ones with: ai-migrate list\n');
    const again = await run(['cancel', id]);
    expect(again.code).toBe(6);
    expect(again.stderr).toMatch(/^Error: Cannot cancel migration job ".*": it is CANCELLED/);

    // The audit log across jobs, filtered (GET /api/ai/audit/entries).
    const log = await run(['audit', '--action', 'cancel', '--entity-type', 'product', '--since', '2000-01-01T00:00:00Z']);
    expect(log).toMatchObject({ code: 0, stderr: '' });
    expect(log.stdout).toMatch(new RegExp(`ops-admin\\s+cancel\\s+RUNNING\\s+CANCELLED\\s+job ${id}`));
    expect(log.stdout).toMatch(/^Entries 1–1 of 1, newest first\.$/m);
    const page = JSON.parse((await run(['audit', '--actor', 'ops-admin', '--limit', '2', '--json'])).stdout);
    expect(page).toMatchObject({ limit: 2, offset: 0, items: [expect.objectContaining({ actor: 'ops-admin' }), expect.objectContaining({ actor: 'ops-admin' })] });
    expect((await run(['audit', '--action', 'drop'])).code).toBe(2);
  });

  it('a job completed with failed entities exits 1; failures lists them; retry-failed --wait finishes them (exit 0)', async () => {
    server.injectFaults({ poisoned: ['number 7 for'] });
    const result = await run(['start', 'product', '--reindex-existing', '--wait']);
    expect(result.code).toBe(1);
    const id = startedId(result);
    expect(result.stdout).toMatch(new RegExp(`Job ${id} COMPLETED with failures: 119 processed, 0 skipped, 1 failed of 120 .*List them with: ai-migrate failures ${id}; retry them with: ai-migrate retry-failed ${id} --wait`));

    const failures = await run(['failures', id]);
    expect(failures).toMatchObject({ code: 0, stderr: '' });
    expect(failures.stdout).toMatch(new RegExp(`^${ids[7]}\\s+\\d+\\s+\\S+\\s+.*rejected`, 'm'));
    expect(JSON.parse((await run(['failures', id, '--json'])).stdout)).toEqual([expect.objectContaining({ entityId: ids[7] })]);

    server.injectFaults(null);
    const retried = await run(['retry-failed', id, '--wait']);
    expect(retried).toMatchObject({ code: 0, stderr: '' });
    expect(retried.stdout).toMatch(new RegExp(`^Re-queued 1 failed entities of job ${id}\\.$`, 'm'));
    expect(retried.stdout).toMatch(new RegExp(`^Job ${id} COMPLETED: 120 processed, 0 skipped, 0 failed of 120`, 'm'));
    expect((await run(['failures', id])).stdout).toBe(`Job ${id} has no failed entities.\n`);
  });

  it('verify --wait exits 0 on a consistent index and 1 with the counts when vectors are missing; verify-report lists them; --fix repairs', async () => {
    const clean = await run(['verify', 'product', '--wait']);
    expect(clean).toMatchObject({ code: 0, stderr: '' });
    expect(clean.stdout).toMatch(/^Missing\s+0$/m);

    const gone = ids.slice(0, 3);
    await ctx.dataSource.query(`DELETE FROM ai_searchable_entities WHERE entity_type = 'product' AND entity_id = ANY($1)`, [gone]);
    const found = await run(['verify', 'product', '--wait']);
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/^Missing\s+3$/m);
    const jobId = new RegExp(`^Started verification job (${UUID})`, 'm').exec(found.stdout)![1];
    expect(found.stdout).toContain(`List them with: ai-migrate verify-report ${jobId} --findings; fix them with: ai-migrate verify product --fix --wait`);

    const findings = await run(['verify-report', jobId, '--findings', '--kind', 'MISSING']);
    expect(findings).toMatchObject({ code: 0, stderr: '' });
    expect(findings.stdout.split('\n').filter((line) => line.startsWith('MISSING')).map((line) => line.split(/\s+/)[1]).sort()).toEqual([...gone].sort());
    expect((await run(['verify-report', jobId])).stdout).toMatch(/^Missing\s+3$/m);

    const fixed = await run(['verify', 'product', '--fix', '--wait']);
    expect(fixed).toMatchObject({ code: 0, stderr: '' });
    expect(await ctx.vectorStore.count('product')).toBe(N);
  });

  it('exit codes: 4 without or with a refused token, 5 unreachable or not the app, 2 invalid, 6 not found; errors are the server\'s sentences', async () => {
    const none = await run(['list'], { AI_MIGRATION_URL: url });
    expect(none).toMatchObject({ code: 4, stdout: '' });
    expect(none.stderr).toMatch(/^Error: No token: set AI_MIGRATION_TOKEN, or AI_MIGRATION_TOKEN_FILE/);
    const wrong = await run(['list'], { AI_MIGRATION_URL: url, AI_MIGRATION_TOKEN: 'not-a-configured-token-000' });
    expect(wrong).toMatchObject({ code: 4, stderr: 'Error: The bearer token is not valid. Use a token configured in AiWebModule auth.tokens.\n' });
    const viewer = { AI_MIGRATION_URL: url, AI_MIGRATION_TOKEN: VIEWER_TOKEN };
    expect((await run(['list', '--limit', '1'], viewer)).code).toBe(0);
    const forbidden = await run(['start', 'product'], viewer);
    expect(forbidden.code).toBe(4);
    expect(forbidden.stderr).toMatch(/^Error: The token "dashboard" has the role "viewer"/);

    const down = await run(['list'], { ...admin, AI_MIGRATION_URL: `http://127.0.0.1:${await closedPort()}` });
    expect(down.code).toBe(5);
    expect(down.stderr).toMatch(/^Error: Cannot reach http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)\. Check --url \(or AI_MIGRATION_URL\) and that the app is running\.$/m);
    const elsewhere = await run(['list'], { ...admin, AI_MIGRATION_URL: `${url}/shop` });
    expect(elsewhere.code).toBe(5);
    expect(elsewhere.stderr).toContain(`does not serve GET /shop/api/ai/migration/jobs (404)`);

    const unknown = await run(['start', 'ticket']);
    expect(unknown).toMatchObject({ code: 2, stderr: expect.stringMatching(/^Error: Unknown entity type "ticket"; known types: product\./) });
    const invalid = await run(['start', 'product', '--batch-size', '999999']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain('  batchSize: batchSize must not be greater than');
    const badFlag = await run(['start', 'product', '--batch-size', 'abc']);
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("error: option '--batch-size <n>' argument 'abc' is invalid. Expected a whole number of at least 1.");
    expect((await run(['frobnicate'])).code).toBe(2);
    expect((await run([])).code).toBe(2);
    expect((await run(['start'])).stderr).toContain("error: missing required argument 'entity-type'");
    const badId = await run(['status', 'not-a-uuid']);
    expect(badId).toMatchObject({ code: 2, stderr: expect.stringContaining('Path parameter "id" must be a job id') });
    const missing = await run(['status', '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10']);
    expect(missing).toMatchObject({ code: 6, stderr: expect.stringContaining('Migration job "3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10" does not exist') });
    const json = await run(['status', '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10', '--json']);
    expect(JSON.parse(json.stderr)).toMatchObject({ exitCode: 6, error: expect.stringContaining('does not exist') });
    const rethrottle = await run(['rethrottle', '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10']);
    expect(rethrottle).toMatchObject({ code: 2, stderr: 'Error: Give --rate-limit, --max-tokens and/or --max-cost (none removes a budget limit).\n' });
  });

  it('reads the token from a file; --token works with a warning; a token from the environment is not on the process list', async () => {
    const file = join(dir, 'token');
    writeFileSync(file, `${ADMIN_TOKEN}\n`, { mode: 0o600 });
    expect((await run(['list', '--token-file', file], { AI_MIGRATION_URL: url })).code).toBe(0);
    expect((await run(['list'], { AI_MIGRATION_URL: url, AI_MIGRATION_TOKEN_FILE: file })).code).toBe(0);
    // A flag wins over the environment.
    expect((await run(['list', '--token-file', file], { AI_MIGRATION_URL: url, AI_MIGRATION_TOKEN: 'not-a-configured-token-000' })).code).toBe(0);
    const flag = await run(['list', '--token', ADMIN_TOKEN], { AI_MIGRATION_URL: url });
    expect(flag.code).toBe(0);
    expect(flag.stderr).toBe('Warning: --token shows the token to anyone who can list processes; prefer AI_MIGRATION_TOKEN or --token-file.\n');

    const id = await slowJob();
    const watcher = spawn(process.execPath, [cli.entry, 'status', id, '--watch'], { env: { PATH: process.env.PATH, ...admin } });
    const exited = new Promise<number | null>((done) => watcher.on('exit', done));
    let output = '';
    watcher.stdout.on('data', (chunk) => (output += chunk));
    await waitUntil('the watcher printed a progress line', () => PROGRESS_LINE.test(output), 20_000);
    const commandLine = readFileSync(`/proc/${watcher.pid}/cmdline`, 'utf8');
    expect(commandLine).toContain('--watch');
    expect(commandLine).not.toContain(ADMIN_TOKEN);
    expect((await run(['cancel', id])).code).toBe(0);
    expect(await exited).toBe(1);
  });

  it('--help of every command exits 0 with examples; --version prints a version', async () => {
    const commands = ['start', 'status', 'list', 'pause', 'resume', 'cancel', 'rethrottle', 'failures', 'retry-failed', 'audit', 'verify', 'verify-report', 'generations', 'build', 'validate', 'cutover', 'rollback', 'retire'];
    const main = await run(['--help']);
    expect(main.code).toBe(0);
    for (const command of commands) expect(main.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(main.stdout).toContain('Exit status:');
    for (const command of commands) {
      const help = await run([command, '--help']);
      expect({ command, code: help.code, examples: /Examples?:\n  \$ ai-migrate /.test(help.stdout) }).toEqual({ command, code: 0, examples: true });
    }
    expect((await run(['--version'])).stdout).toMatch(/^\S+\n$/);
  });
});

/**
 * The generation commands through the CLI: after a configuration change, `build --wait` backfills the new
 * generation, `validate` runs the gate with golden queries from a file, `cutover` is refused without it
 * (exit 6) and succeeds with it, `rollback` serves the old one again, `retire` ends the new one, and
 * `audit --generation` shows who did it.
 */
describeEachEngine('ai-migrate CLI: index generations', ({ getUrl }) => {
  let ctx: IndexingApp;
  let cli: ReturnType<typeof buildAiMigrateCli>;
  let dir: string;
  let admin: Record<string, string>;
  let ids: string[];
  const run = (args: string[]) => runAiMigrate(cli.entry, args, admin);
  const boot = (entityConfigPath: string) =>
    bootIndexingApp({ databaseUrl: getUrl(), products: true, logger: new CapturedLogger(), migration: { generations: { autoBuild: false } }, web: webTestOptions(), core: { entityConfigPath } });

  beforeAll(async () => {
    cli = buildAiMigrateCli();
    dir = mkdtempSync(join(tmpdir(), 'ai-migrate-cli-generations-'));
    ctx = await boot(SAMPLE_ENTITY_CONFIG);
    ids = await insertProducts(ctx.dataSource, [
      { name: 'Waterproof hiking boots', description: 'Leather boots with a membrane for wet mountain trails.', category: 'Footwear', price: 129 },
      ...generatedProducts(150, 'catalogue item'),
    ]);
    const migrations = ctx.app.get(DataMigrationService);
    const job = await migrations.indexAllEntities('product');
    await waitUntil('the first backfill completed', async () => (await migrations.getProgress(job.id)).status === MigrationStatus.COMPLETED, 60_000);
    await ctx.close();
    const changed = join(dir, 'ai-entity-config.yml');
    writeFileSync(changed, readFileSync(SAMPLE_ENTITY_CONFIG, 'utf8').replace('      - name: category\n', '      - name: category\n      - name: price\n'));
    ctx = await boot(changed);
    await ctx.app.listen(0, '127.0.0.1');
    admin = { AI_MIGRATION_URL: `http://127.0.0.1:${(ctx.app.getHttpServer().address() as AddressInfo).port}`, AI_MIGRATION_TOKEN: ADMIN_TOKEN };
  }, 120_000);

  afterAll(async () => {
    await ctx?.close();
    cli?.remove();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('generations, build --wait, validate, cutover, rollback, retire and audit --generation', async () => {
    const listed = await run(['generations']);
    expect(listed).toMatchObject({ code: 0, stderr: '' });
    const rows = listed.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s{2,}/));
    expect(rows.map((r) => [r[1], r[2]])).toEqual([
      ['product', 'BUILDING'],
      ['product', 'SERVING'],
    ]);
    const [building, serving] = rows.map((r) => Number(r[0]));

    const built = await run(['build', 'product', '--wait']);
    expect(built).toMatchObject({ code: 0, stderr: '' });
    expect(built.stdout).toMatch(new RegExp(`^Generation ${building} of product is BUILDING\\.$`, 'm'));
    expect(built.stdout).toMatch(/COMPLETED: 151 processed/);
    await waitUntil('the new generation is READY', async () => JSON.parse((await run(['generations', String(building), '--json'])).stdout).state === 'READY', 60_000);

    const refused = await run(['cutover', String(building)]);
    expect(refused.code).toBe(6);
    expect(refused.stderr).toMatch(/^Error: .*quality gate/);

    const queries = join(dir, 'golden.json');
    writeFileSync(queries, JSON.stringify([{ query: 'waterproof hiking boots', expectedIds: [ids[0]] }]));
    const validated = await run(['validate', String(building), '--queries', queries, '--k', '5', '--min-overlap', '0.1', '--max-missing', '0']);
    expect(validated).toMatchObject({ code: 0, stderr: '' });
    expect(validated.stdout).toMatch(/^Gate\s+PASSED$/m);
    expect(validated.stdout).toMatch(/^Coverage\s+151 vectors for 151 rows: 0 missing, 0 stale, 0 orphaned$/m);
    expect(validated.stdout).toContain(`Cut over with: ai-migrate cutover ${building}`);
    const strict = await run(['validate', String(building), '--queries', queries, '--min-overlap', '1.01']);
    expect(strict.code).toBe(2);

    const cutover = await run(['cutover', String(building)]);
    expect(cutover).toMatchObject({ code: 0, stderr: '' });
    expect(cutover.stdout).toMatch(new RegExp(`^product is now served by generation ${building} .*; generation ${serving} is READY and kept current for a rollback\\.$`, 'm'));
    const rollback = await run(['rollback', 'product']);
    expect(rollback).toMatchObject({ code: 0, stderr: '' });
    expect(rollback.stdout).toMatch(new RegExp(`^product is now served by generation ${serving} `));
    const retired = await run(['retire', String(building)]);
    expect(retired).toMatchObject({ code: 0, stderr: '' });
    expect(retired.stdout).toMatch(new RegExp(`^Generation ${building} of product is RETIRED`));
    expect((await run(['retire', String(serving)])).code).toBe(6);

    const audit = await run(['audit', '--generation', String(building)]);
    expect(audit).toMatchObject({ code: 0, stderr: '' });
    expect(audit.stdout.split('\n').slice(1).filter(Boolean).map((line) => line.split(/\s{2,}/)[2])).toEqual(
      expect.arrayContaining(['generation-create', 'generation-validate', 'generation-cutover', 'generation-retire']),
    );
    expect((await run(['generations', 'abc'])).code).toBe(2);
  });
});
