import { execFile, spawnSync } from 'node:child_process';
import { accessSync, appendFileSync, chownSync, constants, existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';

/** A running throwaway PostgreSQL cluster. */
export interface PostgresServer {
  /** Superuser connection string to the `postgres` database: `postgres://postgres@127.0.0.1:PORT/postgres`. */
  url: string;
  /** Temporary directory holding the cluster, its socket and its log; removed by {@link stop}. */
  baseDir: string;
  /** Kills the cluster without a checkpoint (`pg_ctl stop -m immediate`) and deletes its files. Idempotent. */
  stop(): Promise<void>;
}

/**
 * This machine cannot run a PostgreSQL test cluster (binaries, a non-root user or pgvector missing).
 * Separate from other failures so that callers can treat it as "not installed" rather than "broken".
 */
export class PostgresUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PostgresUnavailableError';
  }
}

const SERVER_BINARIES = ['initdb', 'pg_ctl', 'postgres'];
const SYSTEM_USER = 'postgres';
const START_ATTEMPTS = 3;

/**
 * Settings that trade durability for speed: the cluster is deleted after the run, so nothing needs to
 * survive a crash. max_connections leaves room for several suites' pools at once.
 */
const SPEED_SETTINGS: Record<string, string> = {
  fsync: 'off',
  synchronous_commit: 'off',
  full_page_writes: 'off',
  max_connections: '200',
  shared_buffers: '64MB',
  listen_addresses: "'127.0.0.1'",
};

/**
 * Directory holding `initdb`, `pg_ctl` and `postgres`: `PG_BIN` when set, otherwise the newest
 * `/usr/lib/postgresql/<version>/bin` (the Debian/Ubuntu layout).
 *
 * @throws PostgresUnavailableError when no such directory exists.
 */
export function findPostgresBinDir(env: NodeJS.ProcessEnv = process.env): string {
  const hasServer = (dir: string) => SERVER_BINARIES.every((name) => isExecutable(join(dir, name)));
  const candidates = env.PG_BIN ? [env.PG_BIN] : debianBinDirs();
  const found = candidates.find(hasServer);
  if (found) return found;
  const searched = candidates.length ? candidates.join(', ') : '/usr/lib/postgresql/*/bin';
  throw new PostgresUnavailableError(
    `PostgreSQL server binaries (${SERVER_BINARIES.join(', ')}) not found in ${searched}; install postgresql-15 or set PG_BIN.`,
  );
}

/**
 * Creates and starts a throwaway PostgreSQL cluster on a free loopback port with trust authentication.
 * PostgreSQL refuses to run as root, so under root the cluster runs as the `postgres` system user.
 *
 * @throws PostgresUnavailableError when the binaries or a usable non-root user are missing.
 */
export async function startPostgresServer(env: NodeJS.ProcessEnv = process.env): Promise<PostgresServer> {
  const binDir = findPostgresBinDir(env);
  const runAs = serverUser();
  const baseDir = mkdtempSync(join(tmpdir(), 'ai-infra-pg-'));
  const dataDir = join(baseDir, 'data');
  const logFile = join(baseDir, 'postgres.log');
  if (runAs) chownSync(baseDir, runAs.uid, runAs.gid);

  const pgCtl = (...args: string[]) => run(runAs, join(binDir, 'pg_ctl'), ['-D', dataDir, ...args], baseDir);
  let stopped = false;
  const stopSync = () => {
    if (stopped) return;
    stopped = true;
    process.off('exit', stopSync);
    const [cmd, ...args] = command(runAs, join(binDir, 'pg_ctl'), ['-D', dataDir, 'stop', '-m', 'immediate', '-w']);
    if (existsSync(join(dataDir, 'postmaster.pid'))) spawnSync(cmd, args, { cwd: baseDir, stdio: 'ignore' });
    rmSync(baseDir, { recursive: true, force: true });
  };
  // A crashed or interrupted Jest run would otherwise leave a postgres daemon behind.
  process.once('exit', stopSync);

  try {
    await run(runAs, join(binDir, 'initdb'), ['-D', dataDir, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8', '--locale=C'], baseDir);
    const settings = { ...SPEED_SETTINGS, unix_socket_directories: `'${baseDir}'` };
    appendFileSync(join(dataDir, 'postgresql.conf'), Object.entries(settings).map(([k, v]) => `${k} = ${v}\n`).join(''));

    let url: string | undefined;
    for (let attempt = 1; !url; attempt++) {
      // The port is free when probed but may be taken before postgres binds it; another port is then tried.
      const port = await freeLoopbackPort();
      try {
        await pgCtl('start', '-w', '-t', '60', '-l', logFile, '-o', `-p ${port}`);
        url = `postgres://postgres@127.0.0.1:${port}/postgres`;
      } catch (error) {
        if (attempt >= START_ATTEMPTS) throw error;
      }
    }
    await waitUntilAccepting(url);
    return {
      url,
      baseDir,
      stop: async () => {
        if (stopped) return;
        await pgCtl('stop', '-m', 'immediate', '-w').catch(() => undefined);
        stopSync();
      },
    };
  } catch (error) {
    const log = existsSync(logFile) ? `\nServer log:\n${readFileSync(logFile, 'utf8').split('\n').slice(-20).join('\n')}` : '';
    stopSync();
    throw new Error(`The test PostgreSQL cluster could not be started: ${(error as Error).message}${log}`, { cause: error });
  }
}

/** Unix user to run the server binaries as, or undefined to run them as ourselves (already non-root). */
function serverUser(): { name: string; uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const uid = spawnSync('id', ['-u', SYSTEM_USER], { encoding: 'utf8' });
  const gid = spawnSync('id', ['-g', SYSTEM_USER], { encoding: 'utf8' });
  if (uid.status !== 0 || gid.status !== 0) {
    throw new PostgresUnavailableError(
      `PostgreSQL refuses to run as root and there is no "${SYSTEM_USER}" system user to run it as; ` +
        `create one (useradd --system ${SYSTEM_USER}) or run the tests as a non-root user.`,
    );
  }
  return { name: SYSTEM_USER, uid: Number(uid.stdout.trim()), gid: Number(gid.stdout.trim()) };
}

function command(runAs: { name: string } | undefined, file: string, args: string[]): string[] {
  return runAs ? ['runuser', '-u', runAs.name, '--', file, ...args] : [file, ...args];
}

function run(runAs: { name: string } | undefined, file: string, args: string[], cwd: string): Promise<string> {
  const [cmd, ...rest] = command(runAs, file, args);
  return new Promise((resolve, reject) => {
    // cwd is the cluster's own directory: the server user may not be allowed into ours.
    execFile(cmd, rest, { cwd, encoding: 'utf8' }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${[cmd, ...rest].join(' ')} failed: ${stderr.trim() || error.message}`));
      else resolve(stdout);
    });
  });
}

function debianBinDirs(): string[] {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return [];
  return readdirSync(root)
    .filter((version) => /^\d+(\.\d+)?$/.test(version))
    .sort((a, b) => Number(b) - Number(a))
    .map((version) => join(root, version, 'bin'));
}

function isExecutable(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** pg_ctl -w already waits for "ready"; this confirms a TCP client really gets through before tests start. */
async function waitUntilAccepting(url: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const client = new Client({ connectionString: url });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return;
    } catch (error) {
      if (Date.now() >= deadline) throw error;
      await new Promise((done) => setTimeout(done, 100));
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}
