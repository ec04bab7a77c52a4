import { Logger } from '@nestjs/common';
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { EmbeddedDatabaseLockedError } from './database.errors';
import { EMBEDDED_LOCK_FILE, EmbeddedPostgres } from './embedded-postgres';

/**
 * Script for a second Node process that opens a data directory and holds it until its stdin closes.
 * Loaded through ts-node so it runs this very source file rather than a build that may be stale.
 */
const HOLDER_SCRIPT = `
const { EmbeddedPostgres } = require(process.env.MODULE_PATH);
EmbeddedPostgres.start({ dataDir: process.env.DATA_DIR }).then(
  (db) => {
    process.stdout.write('HOLDER_READY\\n');
    process.stdin.on('end', () => db.close().then(() => process.exit(0)));
    process.stdin.resume();
  },
  (error) => { console.error(error); process.exit(1); },
);`;

// Every start logs where it listens; a passing run stays quiet (warnings and errors still print).
Logger.overrideLogger(['error', 'warn']);

describe('EmbeddedPostgres', () => {
  let root: string;
  /** A closed, already initialised data directory: copying it skips PGlite's ~5 s first-time initdb. */
  let template: string;
  const open: EmbeddedPostgres[] = [];

  const start = async (options: Parameters<typeof EmbeddedPostgres.start>[0]) => {
    const db = await EmbeddedPostgres.start(options);
    open.push(db);
    return db;
  };
  const copyOfTemplate = (name: string) => {
    const dir = join(root, name);
    cpSync(template, dir, { recursive: true });
    return dir;
  };
  const query = async (url: string, sql: string, params: unknown[] = []) => {
    const client = new Client({ connectionString: url });
    await client.connect();
    try {
      return (await client.query(sql, params)).rows;
    } finally {
      await client.end();
    }
  };

  beforeAll(async () => {
    root = mkdtempSync(join(tmpdir(), 'embedded-pg-spec-'));
    template = join(root, 'template');
    await (await EmbeddedPostgres.start({ dataDir: template })).close();
  });

  afterEach(async () => {
    await Promise.all(open.splice(0).map((db) => db.close()));
    jest.restoreAllMocks();
  });

  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });

  it('creates a missing data directory, including its parents, and holds a lock file in it', async () => {
    const dataDir = join(root, 'nested', 'deeper', 'data');
    const db = await start({ dataDir });

    expect(db.dataDir).toBe(dataDir);
    expect(existsSync(join(dataDir, 'PG_VERSION'))).toBe(true);
    const lock = JSON.parse(readFileSync(join(dataDir, EMBEDDED_LOCK_FILE), 'utf8'));
    expect(lock).toMatchObject({ pid: process.pid, startedAt: expect.any(String) });
    expect(db.url).toMatch(/^postgres:\/\/postgres@127\.0\.0\.1:\d+\/postgres$/);
  });

  it('refuses a data directory that another process holds, naming the directory and that process', async () => {
    const dataDir = copyOfTemplate('held');
    const holder = spawn(process.execPath, ['-r', 'ts-node/register/transpile-only', '-e', HOLDER_SCRIPT], {
      env: { ...process.env, MODULE_PATH: require.resolve('./embedded-postgres'), DATA_DIR: dataDir },
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    try {
      await waitForOutput(holder, 'HOLDER_READY', 60_000);

      const failure = await EmbeddedPostgres.start({ dataDir }).catch((error: unknown) => error);

      expect(failure).toBeInstanceOf(EmbeddedDatabaseLockedError);
      const error = failure as EmbeddedDatabaseLockedError;
      expect(error.pid).toBe(holder.pid);
      expect(error.message).toContain(dataDir);
      expect(error.message).toContain(`process ${holder.pid}`);
      expect(error.message).toContain('DATABASE_URL');
    } finally {
      await stopHolder(holder);
    }
    // The holder released its lock on close, so the directory is usable again.
    expect(existsSync(join(dataDir, EMBEDDED_LOCK_FILE))).toBe(false);
    await start({ dataDir });
  });

  it('takes over a lock left by a process that no longer runs, with a warning', async () => {
    const dataDir = copyOfTemplate('stale');
    const deadPid = spawnSync(process.execPath, ['-e', '']).pid;
    writeFileSync(join(dataDir, EMBEDDED_LOCK_FILE), JSON.stringify({ pid: deadPid, startedAt: '2020-01-01T00:00:00.000Z', hostname: 'gone', token: 'x' }));
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);

    await start({ dataDir });

    expect(warn).toHaveBeenCalledWith(expect.stringContaining(`process ${deadPid}`));
    expect(JSON.parse(readFileSync(join(dataDir, EMBEDDED_LOCK_FILE), 'utf8')).pid).toBe(process.pid);
  });

  it('refuses the same data directory twice within one process', async () => {
    const dataDir = copyOfTemplate('twice');
    await start({ dataDir });

    await expect(EmbeddedPostgres.start({ dataDir })).rejects.toBeInstanceOf(EmbeddedDatabaseLockedError);
  });

  it('keeps data across close and reopen, and releases the lock on close', async () => {
    const dataDir = copyOfTemplate('persist');
    const first = await start({ dataDir });
    await query(first.url, 'CREATE TABLE notes (id int PRIMARY KEY, body text)');
    await query(first.url, 'INSERT INTO notes VALUES ($1, $2)', [1, 'kept']);
    await first.close();
    await first.close(); // idempotent

    expect(existsSync(join(dataDir, EMBEDDED_LOCK_FILE))).toBe(false);
    const second = await start({ dataDir });
    expect(await query(second.url, 'SELECT body FROM notes')).toEqual([{ body: 'kept' }]);
  });

  it('serves pgvector to the pg driver, in memory without touching the disk', async () => {
    const db = await start({ inMemory: true, maxConnections: 4 });
    expect(db.dataDir).toBeUndefined();

    await query(db.url, 'CREATE EXTENSION vector');
    await query(db.url, 'CREATE TABLE items (id int PRIMARY KEY, embedding vector(3))');
    await query(db.url, 'INSERT INTO items VALUES (1, $1), (2, $2), (3, $3)', ['[1,0,0]', '[0,1,0]', '[0.9,0.1,0]']);
    const nearest = await query(db.url, 'SELECT id FROM items ORDER BY embedding <=> $1 LIMIT 2', ['[1,0,0]']);

    expect(nearest.map((row) => row.id)).toEqual([1, 3]);
  });
});

function waitForOutput(child: ChildProcess, marker: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`The child process did not print ${marker} within ${timeoutMs} ms. Output:\n${output}`)), timeoutMs);
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      if (output.includes(marker)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`The child process exited with code ${code} before printing ${marker}. Output:\n${output}`));
    });
  });
}

async function stopHolder(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin!.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}
