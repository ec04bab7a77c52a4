import { Logger } from '@nestjs/common';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import { DataDirLock } from './data-dir-lock';
import { startPgliteWireServer } from './pglite-wire-server';

/** Options for {@link EmbeddedPostgres.start}. */
export interface EmbeddedPostgresOptions {
  /** Directory that holds the database files; created (recursively) when missing. Default `./data`. Ignored when `inMemory`. */
  dataDir?: string;
  /** Keep everything in memory: nothing is written to disk and no lock is taken. For tests and demos. */
  inMemory?: boolean;
  /**
   * Most simultaneous client connections the socket server accepts. Must be at least the size of every
   * connection pool pointed at {@link EmbeddedPostgres.url} combined: a client over the limit is refused,
   * not queued. Default 20.
   */
  maxConnections?: number;
}

export { EMBEDDED_LOCK_FILE } from './embedded-postgres.constants';

const DEFAULT_DATA_DIR = './data';
const DEFAULT_MAX_CONNECTIONS = 20;
/** A close that takes longer than this is abandoned and the worker terminated, so shutdown never hangs. */
const CLOSE_TIMEOUT_MS = 30_000;

/**
 * PostgreSQL with pgvector for installs without a database server: PGlite (PostgreSQL compiled to
 * WebAssembly) exposed on a loopback TCP port, so the ordinary `pg` driver and TypeORM connect to
 * {@link url} exactly as they would to a real server.
 *
 * PGlite runs in a worker thread. Its queries execute synchronously inside WebAssembly, so on the main
 * thread a slow query (an index build, a large scan) would stall every HTTP request; the worker also
 * keeps PGlite's dynamic `import()` calls outside Jest's module sandbox, where they fail.
 *
 * Limits that follow from PGlite being single-connection underneath: statements from all clients run
 * one at a time, an open transaction holds up every other connection until it ends, and `COPY` over the
 * socket is not supported. Use `DATABASE_URL` and a real PostgreSQL server in production.
 */
export class EmbeddedPostgres {
  private static readonly logger = new Logger(EmbeddedPostgres.name);
  private closing?: Promise<void>;
  private workerExited = false;

  private constructor(
    /** Connection string for `pg` / TypeORM: `postgres://postgres@127.0.0.1:PORT/postgres`. */
    readonly url: string,
    /** Absolute path of the data directory, or `undefined` when the database lives in memory. */
    readonly dataDir: string | undefined,
    private readonly worker: Worker,
    private readonly lock: DataDirLock | undefined,
  ) {
    // Without an 'error' listener a crash inside PGlite would take the whole process down with it.
    worker.on('error', (error) => EmbeddedPostgres.logger.error(`The embedded database at ${url} failed: ${error.message}`, error.stack));
    worker.on('exit', (code) => {
      this.workerExited = true;
      if (!this.closing) EmbeddedPostgres.logger.error(`The embedded database at ${url} stopped unexpectedly (worker exit code ${code}).`);
    });
  }

  /**
   * Opens (or on first use creates) the database, loads the pgvector extension so that
   * `CREATE EXTENSION vector` works, and starts listening on a free loopback port.
   *
   * @throws EmbeddedDatabaseLockedError when another live process serves the same data directory.
   */
  static async start(options: EmbeddedPostgresOptions = {}): Promise<EmbeddedPostgres> {
    const startedAt = Date.now();
    const maxConnections = options.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
    if (!Number.isInteger(maxConnections) || maxConnections < 1) {
      throw new RangeError(`maxConnections must be a positive integer, but it is ${maxConnections}.`);
    }
    const dataDir = options.inMemory ? undefined : resolve(options.dataDir ?? DEFAULT_DATA_DIR);

    let lock: DataDirLock | undefined;
    if (dataDir) {
      mkdirSync(dataDir, { recursive: true });
      lock = await DataDirLock.acquire(dataDir, EmbeddedPostgres.logger);
      if (!existsSync(join(dataDir, 'PG_VERSION'))) {
        EmbeddedPostgres.logger.log(`Creating a new embedded database in "${dataDir}"; the first start takes a few seconds.`);
      }
    }

    // __filename anchors module resolution in the worker to this package's node_modules, wherever the process was started.
    const worker = new Worker(WORKER_SCRIPT, { eval: true, workerData: { anchor: __filename, dataDir, maxConnections } });
    try {
      const { conn } = await reply(worker, 'ready');
      const url = `postgres://postgres@${conn}/postgres`;
      EmbeddedPostgres.logger.log(
        `Embedded PostgreSQL (PGlite with pgvector) is listening at ${url}, ` +
          `${dataDir ? `storing data in "${dataDir}"` : 'keeping data in memory'} ` +
          `(started in ${Date.now() - startedAt} ms). Set DATABASE_URL to use a PostgreSQL server instead.`,
      );
      return new EmbeddedPostgres(url, dataDir, worker, lock);
    } catch (error) {
      await worker.terminate();
      lock?.release();
      const where = dataDir ? `from "${dataDir}"` : 'in memory';
      throw new Error(`The embedded database could not be started ${where}: ${(error as Error).message}`, { cause: error });
    }
  }

  /** Stops the socket server, closes PGlite and releases the data directory lock. Safe to call more than once. */
  close(): Promise<void> {
    this.closing ??= this.shutdown();
    return this.closing;
  }

  private async shutdown(): Promise<void> {
    try {
      if (this.workerExited) return;
      const closed = reply(this.worker, 'closed');
      this.worker.postMessage({ type: 'close' });
      await withTimeout(closed, CLOSE_TIMEOUT_MS, `The embedded database at ${this.url} did not close within ${CLOSE_TIMEOUT_MS} ms.`);
    } finally {
      await this.worker.terminate();
      this.lock?.release();
    }
  }
}

/**
 * Body of the worker thread, kept as plain CommonJS source rather than a file of its own: under ts-node
 * and Jest this module is a `.ts` file, which `new Worker()` cannot run, and the compiled build would
 * need the extra file copied next to it.
 * The wire server is {@link startPgliteWireServer}, inlined from its source text.
 * Protocol: the worker posts `ready` (with `conn`, "host:port") or `failed`; on `close` it stops the
 * server, closes PGlite so the data directory is left consistent, and posts `closed`.
 */
const WORKER_SCRIPT = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const load = require('node:module').createRequire(workerData.anchor);
const { PGlite } = load('@electric-sql/pglite');
const { vector } = load('@electric-sql/pglite-pgvector');
const startPgliteWireServer = ${startPgliteWireServer.toString()};
const fail = (error) => parentPort.postMessage({ type: 'failed', message: error && error.message ? error.message : String(error) });
let db;
let server;
(async () => {
  db = await PGlite.create({ dataDir: workerData.dataDir, extensions: { vector } });
  server = await startPgliteWireServer(db, net, { host: '127.0.0.1', port: 0, maxConnections: workerData.maxConnections });
  parentPort.postMessage({ type: 'ready', conn: server.address });
})().catch(fail);
parentPort.on('message', (message) => {
  if (message.type !== 'close') return;
  (async () => {
    if (server) await server.close();
    if (db) await db.close();
    parentPort.postMessage({ type: 'closed' });
  })().catch(fail);
});
`;

type WorkerReply = { type: 'ready'; conn: string } | { type: 'closed' } | { type: 'failed'; message: string };

/** Waits for the worker's next reply of the given type; a failure report, a thrown error or an exit rejects. */
function reply<T extends 'ready' | 'closed'>(worker: Worker, type: T): Promise<Extract<WorkerReply, { type: T }>> {
  return new Promise((resolve, reject) => {
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('error', onError);
      worker.off('exit', onExit);
    };
    const onMessage = (message: WorkerReply) => {
      if (message.type === type) {
        cleanup();
        resolve(message as Extract<WorkerReply, { type: T }>);
      } else if (message.type === 'failed') {
        cleanup();
        reject(new Error(message.message));
      }
    };
    const onError = (error: Error) => {
      cleanup();
      reject(error);
    };
    const onExit = (code: number) => {
      cleanup();
      reject(new Error(`The embedded database worker exited with code ${code}.`));
    };
    worker.on('message', onMessage);
    worker.on('error', onError);
    worker.on('exit', onExit);
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
