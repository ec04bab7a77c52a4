import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeOfflineLockfile, type LocalTarball } from '../scripts/offline-lockfile';
import { buildPackages, LIBRARY_PACKAGES, npmCommand, packPackages, type PackedPackage } from '../scripts/packages';

/**
 * The packages as an adopter gets them. The three libraries are built and packed; a NestJS application
 * kept in test/fixtures/outside-app is copied to a temporary directory outside the repository, installs
 * the tarballs and the peers it needs from the npm cache (`npm ci --offline`, on a lockfile that pins the
 * versions the repository tests), compiles with its own strict tsconfig and `tsc`, and runs with plain
 * `node` on the embedded database. Nothing in the app points back into the repository: no path aliases,
 * no links, no `paths`. A second copy installs core and web only, without the migration package.
 *
 * Child processes' output is kept and shown only when a step fails.
 */
const REPOSITORY = resolve(__dirname, '..');
const FIXTURE = join(__dirname, 'fixtures', 'outside-app');
const MIGRATION_CORE = '@ai-infrastructure/migration-core';
const ADMIN_TOKEN = 'outside-app-admin-token-0123456789';
/** Upper bounds that turn a hang into a failure with the app's output; they are not what is tested. */
const BOOT_LIMIT_MS = 120_000;
const JOB_LIMIT_MS = 120_000;

const execFileAsync = promisify(execFile);

/** Where the packed tarball of each package is copied inside an app; fixed names keep package.json static. */
const TARBALL_NAME: Record<string, string> = {
  '@ai-infrastructure/core': 'packs/ai-infrastructure-core.tgz',
  '@ai-infrastructure/migration-core': 'packs/ai-infrastructure-migration-core.tgz',
  '@ai-infrastructure/web': 'packs/ai-infrastructure-web.tgz',
};

/** Books imported as pre-existing data; the first is the one the search must find. */
const BOOKS = [
  {
    title: 'The Cartographer of Drowned Lighthouses',
    summary: 'A mapmaker charts the lighthouses that storms pulled under the sea and the keepers who stayed.',
    author: 'Ines Valdora',
    publishedAt: '2019-04-02',
  },
  ...Array.from({ length: 29 }, (_, i) => ({
    title: `Kitchen Garden Almanac, volume ${i + 1}`,
    summary: `Seasonal notes on sowing beans, pruning apple trees and keeping hens, part ${i + 1}.`,
    author: `Author ${i + 1}`,
    publishedAt: `20${String(10 + (i % 10)).padStart(2, '0')}-0${1 + (i % 9)}-15`,
  })),
];

jest.setTimeout(240_000);

describe('The packed libraries installed in an application outside the repository', () => {
  let work: string;
  let packed: PackedPackage[];
  /** The two apps, installed side by side (npm spends most of its time waiting on the disk). */
  let fullApp: string;
  let searchOnlyApp: string;

  beforeAll(async () => {
    work = realpathSync(mkdtempSync(join(tmpdir(), 'ai-infrastructure-outside-')));
    await buildPackages();
    packed = await packPackages(join(work, 'tarballs'));
    [fullApp, searchOnlyApp] = await Promise.all([prepareApp(join(work, 'full'), packed, []), prepareApp(join(work, 'search-only'), packed, [MIGRATION_CORE])]);
  });

  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('packs only the build output, its sources, README, CHANGELOG and LICENSE — no tests, fixtures or sample code', () => {
    expect(packed.map((p) => p.name)).toEqual(LIBRARY_PACKAGES.map((p) => p.name));
    for (const pkg of packed) {
      expect(pkg.files).toEqual(expect.arrayContaining(['package.json', 'README.md', 'CHANGELOG.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts', 'dist/index.d.ts.map', 'dist/index.js.map']));
      const unexpected = pkg.files.filter((file) => !/^(package\.json|README\.md|CHANGELOG\.md|LICENSE|dist\/.+\.(js|d\.ts|js\.map|d\.ts\.map)|src\/.+\.ts|(dist|src)\/.+\/assets\/[\w.-]+\.(html|css|js))$/.test(file));
      expect(unexpected).toEqual([]);
      expect(pkg.files.filter((file) => /\.(spec|e2e-spec|type-test)\.|fixtures?\/|__[^/]+__|(^|\/)(test|apps|bench)\//.test(file))).toEqual([]);
    }
  });

  it('declares every package that its build output requires, as a dependency or a peer', () => {
    for (const pkg of LIBRARY_PACKAGES) {
      const manifest = JSON.parse(readFileSync(join(REPOSITORY, pkg.dir, 'package.json'), 'utf8')) as Record<string, Record<string, string> | undefined>;
      const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})]);
      const required = requiredPackages(join(REPOSITORY, pkg.dir, 'dist'));
      expect({ package: pkg.name, undeclared: required.filter((name) => !declared.has(name)) }).toEqual({ package: pkg.name, undeclared: [] });
    }
  });

  describe('with core, migration-core and web', () => {
    let app: string;

    beforeAll(() => {
      app = fullApp;
    });

    it('installed exactly the tarballs, from outside the repository, with nothing pointing back into it', () => {
      expect(relative(REPOSITORY, app).startsWith('..')).toBe(true);
      for (const file of ['package.json', 'package-lock.json', 'tsconfig.json']) expect(readFileSync(join(app, file), 'utf8')).not.toContain(REPOSITORY);
      expect(JSON.parse(readFileSync(join(app, 'tsconfig.json'), 'utf8')).compilerOptions).not.toHaveProperty('paths');
      for (const pkg of LIBRARY_PACKAGES) {
        const installed = realpathSync(join(app, 'node_modules', pkg.name));
        expect(installed).toBe(join(app, 'node_modules', pkg.name));
        expect(JSON.parse(readFileSync(join(installed, 'package.json'), 'utf8')).version).toBe('0.1.0');
      }
    });

    it('compiles with the app\'s strict tsconfig through the published declarations', async () => {
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json'], app);
      expect(existsSync(join(app, 'dist', 'main.js'))).toBe(true);
    });

    it('refuses to compile an @AICapable entity without migrationRepository', async () => {
      const result = await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.type-errors.json'], app, { allowFailure: true });
      expect(result.code).not.toBe(0);
      const errors = result.stdout.split('\n').filter((line) => /error TS\d+/.test(line));
      expect(errors).toEqual([expect.stringMatching(/^type-errors\/entity-without-migration-repository\.cts\(8,\d+\): error TS2345: /)]);
      expect(result.stdout).toContain("Property 'migrationRepository' is missing");
    });

    it('boots with node on the embedded database, backfills imported books through POST /api/ai/migration/start and finds one through GET /api/ai/search', async () => {
      const server = await AppProcess.start(app, 'dist/main.js');
      await server.explainFailure(async () => {
        const imported = await server.request('POST', '/books/import', { body: BOOKS });
        expect(imported.status).toBe(201);
        const ids = (imported.body as { ids: string[] }).ids;
        expect(ids).toHaveLength(BOOKS.length);

        const query = { entityType: 'book', q: 'cartographer of drowned lighthouses', limit: '3' };
        // Imported with plain SQL, so nothing is indexed until the backfill runs.
        // Search needs a token like every AiWebModule route (this app opens no group to anonymous callers).
        expect((await server.request('GET', '/api/ai/search', { query })).status).toBe(401);
        expect(await server.request('GET', '/api/ai/search', { query, token: ADMIN_TOKEN })).toMatchObject({ status: 200, body: { entityType: 'book', results: [] } });

        expect((await server.request('POST', '/api/ai/migration/start', { body: { entityType: 'book' } })).status).toBe(401);
        const started = await server.request('POST', '/api/ai/migration/start', { token: ADMIN_TOKEN, body: { entityType: 'book', batchSize: 10 } });
        expect(started.status).toBe(201);
        const job = started.body as { id: string; entityType: string; createdBy: string };
        expect(job).toMatchObject({ entityType: 'book', createdBy: 'ops' });

        const progress = await eventually('the backfill job to complete', JOB_LIMIT_MS, async () => {
          const res = await server.request('GET', `/api/ai/migration/jobs/${job.id}`, { token: ADMIN_TOKEN });
          const body = res.body as { status: string; progress: { processed: number; failed: number; total: number } };
          if (res.status !== 200 || ['FAILED', 'CANCELLED'].includes(body.status)) throw new Error(`The job answered ${res.status}: ${JSON.stringify(body)}`);
          return body.status === 'COMPLETED' ? body : undefined;
        });
        expect(progress.progress).toMatchObject({ total: BOOKS.length, processed: BOOKS.length, failed: 0 });

        // The operator's CLI ships as the bin of @ai-infrastructure/web: `npx ai-migrate` (npm exec) finds it
        // in the app's folder and talks to the running app.
        const cli = { env: { AI_MIGRATION_URL: server.url, AI_MIGRATION_TOKEN: ADMIN_TOKEN } };
        const listed = await run(npmCommand(), ['exec', '--offline', '--no', '--', 'ai-migrate', 'list', '--json'], app, cli);
        expect(JSON.parse(listed.stdout)).toMatchObject({ total: 1, items: [{ id: job.id, entityType: 'book', status: 'COMPLETED' }] });
        expect((await run(npmCommand(), ['exec', '--offline', '--no', '--', 'ai-migrate', '--version'], app)).stdout).toBe('0.1.0\n');

        // The dashboard's page and assets are in the package's build output (copied beside the compiled controller).
        const page = await server.request('GET', '/api/ai/migration/dashboard');
        expect(page).toMatchObject({ status: 200, body: expect.stringContaining('<title>AI migrations</title>') });
        for (const asset of ['dashboard.js', 'dashboard.css', 'eventsource-parser.js']) {
          expect({ asset, status: (await server.request('GET', `/api/ai/migration/dashboard/assets/${asset}`)).status }).toEqual({ asset, status: 200 });
        }

        const found = await server.request('GET', '/api/ai/search', { query, token: ADMIN_TOKEN });
        expect(found.status).toBe(200);
        const hits = (found.body as { results: Array<{ entityId: string; metadata: Record<string, unknown> }> }).results;
        expect(hits[0]).toMatchObject({ entityId: ids[0], metadata: { author: 'Ines Valdora' } });
      });
      await server.stop();
    });
  });

  describe('with core and web only (the migration package not installed)', () => {
    let app: string;

    beforeAll(() => {
      app = searchOnlyApp;
    });

    it('npm leaves the optional peer out; @ai-infrastructure/web loads, and its /migration entry point names the package to install', async () => {
      expect(existsSync(join(app, 'node_modules', MIGRATION_CORE))).toBe(false);
      const web = await run(process.execPath, ['-e', "console.log(typeof require('@ai-infrastructure/web').AiWebModule.forRoot)"], app);
      expect(web.stdout.trim()).toBe('function');
      const migration = await run(process.execPath, ['-e', "require('@ai-infrastructure/web/migration')"], app, { allowFailure: true });
      expect(migration.code).not.toBe(0);
      expect(migration.stderr).toContain(
        `The "${MIGRATION_CORE}" package is not installed, but it is required by the @ai-infrastructure/web/migration entry point`,
      );
      expect(migration.stderr).toContain(`npm install ${MIGRATION_CORE}`);
    });

    it('compiles, starts, indexes a saved book live and finds it; health answers; /api/ai/migration/* is 404', async () => {
      await run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.search-only.json'], app);
      const server = await AppProcess.start(app, 'dist/search-only/main.js');
      await server.explainFailure(async () => {
        const saved = await server.request('POST', '/books', { body: BOOKS[0] });
        expect(saved.status).toBe(201);
        const id = (saved.body as { id: string }).id;

        const hit = await eventually('the saved book to be searchable', JOB_LIMIT_MS, async () => {
          const res = await server.request('GET', '/api/ai/search', { query: { entityType: 'book', q: 'drowned lighthouses', limit: '1' } });
          expect(res.status).toBe(200);
          return (res.body as { results: Array<{ entityId: string }> }).results[0];
        });
        expect(hit.entityId).toBe(id);

        const health = await server.request('GET', '/api/ai/monitoring/health');
        expect(health).toMatchObject({ status: 200, body: { status: 'ok' } });

        for (const [method, path] of [
          ['POST', '/api/ai/migration/start'],
          ['GET', '/api/ai/migration/jobs'],
          ['GET', '/api/ai/migration/jobs/3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10'],
        ] as const) {
          const res = await server.request(method, path, { token: ADMIN_TOKEN, body: method === 'POST' ? { entityType: 'book' } : undefined });
          expect({ path, status: res.status, body: res.body }).toMatchObject({ path, status: 404, body: { statusCode: 404, error: 'Not Found' } });
        }
      });
      await server.stop();
    });
  });
});

/**
 * Copies the fixture to `dir`, drops the `without` packages from its package.json, puts the tarballs in
 * `packs/`, writes a lockfile pinned to the repository's versions and installs it offline.
 */
async function prepareApp(dir: string, packed: PackedPackage[], without: string[]): Promise<string> {
  cpSync(FIXTURE, dir, { recursive: true });
  const manifestPath = join(dir, 'package.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { dependencies: Record<string, string> };
  for (const name of without) delete manifest.dependencies[name];
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);

  mkdirSync(join(dir, 'packs'));
  const tarballs = new Map<string, LocalTarball>();
  for (const pkg of packed.filter((p) => !without.includes(p.name))) {
    const tarball = join(dir, TARBALL_NAME[pkg.name]);
    copyFileSync(pkg.tarball, tarball);
    tarballs.set(pkg.name, { tarball, manifest: JSON.parse(readFileSync(join(REPOSITORY, pkg.dir, 'package.json'), 'utf8')) });
  }
  const registry = (await run(npmCommand(), ['config', 'get', 'registry'], dir)).stdout.trim();
  writeOfflineLockfile(dir, join(REPOSITORY, 'package-lock.json'), tarballs, registry);
  await run(npmCommand(), ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], dir);
  return dir;
}

/** npm names of the packages that the `.js` files under `dir` require (static and on-demand `require` calls). */
function requiredPackages(dir: string): string[] {
  const names = new Set<string>();
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.js')) continue;
    for (const [, specifier] of readFileSync(join(dir, entry), 'utf8').matchAll(/require\(["']([^"'.][^"']*)["']\)/g)) {
      const name = specifier.startsWith('@') ? specifier.split('/').slice(0, 2).join('/') : specifier.split('/')[0];
      if (!name.startsWith('node:') && !builtinModules.includes(name)) names.add(name);
    }
  }
  return [...names].sort();
}

/**
 * Environment of the app's child processes. No database URL or data directory of the test run leaks in,
 * and nothing that `npm test` sets to describe the repository (its prefix, its package.json fields) reaches
 * the npm and node processes that run in the app; the npm cache and registry settings are kept.
 */
function childEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  for (const key of Object.keys(env)) {
    if (/^npm_(package|lifecycle)_/.test(key) || /^npm_config_(local_|global_)?prefix$/.test(key)) delete env[key];
  }
  for (const key of ['DATABASE_URL', 'AI_DATA_DIR', 'TEST_PG_URL', 'NODE_OPTIONS', 'TS_NODE_PROJECT', 'TS_NODE_TRANSPILE_ONLY', 'INIT_CWD']) delete env[key];
  return env;
}

interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command in `cwd`; a non-zero exit throws with the command's output unless `allowFailure`. */
async function run(command: string, args: string[], cwd: string, options: { allowFailure?: boolean; env?: Record<string, string> } = {}): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { cwd, env: childEnv(options.env), maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code?: number | string; stdout?: string; stderr?: string };
    const result = { code: typeof failure.code === 'number' ? failure.code : 1, stdout: failure.stdout ?? '', stderr: failure.stderr ?? '' };
    if (options.allowFailure && typeof failure.code === 'number') return result;
    throw new Error(`"${command} ${args.join(' ')}" failed in ${cwd} (${String(failure.code)}):\n${result.stdout}\n${result.stderr}`, { cause: error });
  }
}

/** Polls `probe` until it returns a value; `limitMs` only turns a hang into a failure. */
async function eventually<T>(what: string, limitMs: number, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + limitMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() > deadline) throw new Error(`Gave up waiting for ${what} after ${limitMs} ms${lastError ? `: ${(lastError as Error).message}` : ''}.`);
    await new Promise((done) => setTimeout(done, 250));
  }
}

interface Response {
  status: number;
  body: unknown;
}

/** The app running under plain `node`, its output kept for failure messages. */
class AppProcess {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly url: string,
    private readonly exited: Promise<void>,
  ) {}

  /** Starts `node <entry>` in the app directory, on an embedded database under `<app>/data`, and waits until it listens. */
  static async start(appDir: string, entry: string): Promise<AppProcess> {
    const child = spawn(process.execPath, [entry], {
      cwd: appDir,
      env: childEnv({ PORT: '0', AI_ADMIN_TOKEN: ADMIN_TOKEN, AI_DATA_DIR: join(appDir, 'data'), NO_COLOR: '1' }),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`The app did not start within ${BOOT_LIMIT_MS} ms:\n${output}`));
      }, BOOT_LIMIT_MS);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Books app listening on (http:\/\/\S+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolveUrl(match[1].replace('[::1]', '127.0.0.1'));
        }
      };
      child.stdout!.on('data', onData);
      child.stderr!.on('data', onData);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`The app exited during startup (code ${code}, signal ${signal}):\n${output}`));
      });
    });
    const app = new AppProcess(child, url, exited);
    app.output = output;
    child.stdout!.on('data', (chunk: Buffer) => (app.output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (app.output += chunk.toString()));
    return app;
  }

  /** Runs the steps of a test; a failure stops the app and carries everything it logged. */
  async explainFailure(steps: () => Promise<void>): Promise<void> {
    try {
      await steps();
    } catch (error) {
      await this.stop().catch(() => undefined);
      const failure = error as Error;
      failure.message = `${failure.message}\n\n--- output of the app ---\n${this.output}`;
      throw failure;
    }
  }

  /** One HTTP request; JSON in and out. */
  async request(
    method: 'GET' | 'POST',
    path: string,
    options: { token?: string; body?: unknown; query?: Record<string, string> } = {},
  ): Promise<Response> {
    const url = new URL(path, this.url);
    for (const [key, value] of Object.entries(options.query ?? {})) url.searchParams.set(key, value);
    const res = await fetch(url, {
      method,
      headers: {
        ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
        ...(options.body !== undefined ? { 'content-type': 'application/json' } : {}),
      },
      body: options.body !== undefined ? JSON.stringify(options.body) : undefined,
    });
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // Not JSON: keep the text for the failure message.
    }
    return { status: res.status, body };
  }

  /** SIGTERM (the app's shutdown hooks close the server and the embedded database) and wait for the exit. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGTERM');
    await this.exited;
  }
}
