import type { Logger } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { EmbeddedDatabaseLockedError } from './database.errors';
import { EMBEDDED_LOCK_FILE } from './embedded-postgres.constants';

/** What a lock file records: enough for a person to find the holder, and a token so we only ever delete our own. */
interface LockRecord {
  pid: number;
  startedAt: string;
  hostname: string;
  token: string;
}

/**
 * Lock files this process holds. A lock carrying our own pid that is not in this set was left by an
 * earlier run that got the same pid, which is the norm in containers where the app is always pid 1.
 */
const heldLockFiles = new Set<string>();

const MAX_ACQUIRE_ATTEMPTS = 5;
/** How long a lock file may stay empty or half-written before we conclude its writer died mid-write. */
const UNREADABLE_LOCK_GRACE_MS = 1000;

/**
 * Advisory, exclusive lock on a data directory: a file created with `O_EXCL` that names the holder's pid.
 * Crash recovery relies on the pid being dead; two processes taking over the same stale lock at the
 * same instant is not guarded against, since that needs a crash followed by a simultaneous double start.
 */
export class DataDirLock {
  private released = false;
  private readonly releaseOnExit = (): void => this.release();

  private constructor(
    private readonly file: string,
    private readonly token: string,
    private readonly logger: Logger,
  ) {
    // Best effort only: 'exit' does not fire on SIGKILL or unhandled signals, which the stale-lock takeover covers.
    process.once('exit', this.releaseOnExit);
  }

  static async acquire(dataDir: string, logger: Logger): Promise<DataDirLock> {
    const file = join(dataDir, EMBEDDED_LOCK_FILE);
    const record: LockRecord = { pid: process.pid, startedAt: new Date().toISOString(), hostname: hostname(), token: randomUUID() };

    for (let attempt = 0; attempt < MAX_ACQUIRE_ATTEMPTS; attempt++) {
      if (DataDirLock.tryCreate(file, record)) {
        heldLockFiles.add(file);
        return new DataDirLock(file, record.token, logger);
      }
      const holder = await DataDirLock.readHolder(file);
      if (holder === 'gone') continue;
      if (holder !== 'unreadable' && DataDirLock.isHolderAlive(holder.pid, file)) {
        throw new EmbeddedDatabaseLockedError(dataDir, holder.pid, file);
      }
      const who =
        holder === 'unreadable' ? 'an unreadable lock file' : `process ${holder.pid} (started ${holder.startedAt} on ${holder.hostname})`;
      logger.warn(`Taking over the embedded database lock "${file}" left by ${who}, which is no longer running.`);
      rmSync(file, { force: true });
    }
    throw new Error(
      `The lock file "${file}" kept reappearing after ${MAX_ACQUIRE_ATTEMPTS} attempts to take it; ` +
        `another process is starting on the same data directory. Start one process per data directory.`,
    );
  }

  /** Deletes the lock file if it is still ours. Idempotent and synchronous, so it can run in an 'exit' handler. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldLockFiles.delete(this.file);
    process.off('exit', this.releaseOnExit);
    try {
      const current = JSON.parse(readFileSync(this.file, 'utf8')) as Partial<LockRecord>;
      if (current.token === this.token) rmSync(this.file, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
        this.logger.warn(`Could not release the embedded database lock "${this.file}": ${(error as Error).message}`);
      }
    }
  }

  /** Creates the lock file only if none exists; the record is written through the exclusive descriptor. */
  private static tryCreate(file: string, record: LockRecord): boolean {
    let fd: number;
    try {
      fd = openSync(file, 'wx');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    try {
      writeSync(fd, `${JSON.stringify(record)}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  /**
   * Reads the current holder. An empty or partial file may belong to a process that is between creating
   * and writing it, so it is re-read for a short while before being declared unreadable.
   */
  private static async readHolder(file: string): Promise<LockRecord | 'gone' | 'unreadable'> {
    const deadline = Date.now() + UNREADABLE_LOCK_GRACE_MS;
    for (;;) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'gone';
        throw error;
      }
      try {
        const parsed = JSON.parse(text) as Partial<LockRecord>;
        if (Number.isInteger(parsed.pid) && (parsed.pid as number) > 0) return parsed as LockRecord;
      } catch {
        // Fall through: half-written, retried below.
      }
      if (Date.now() >= deadline) return 'unreadable';
      await new Promise((done) => setTimeout(done, 50));
    }
  }

  private static isHolderAlive(pid: number, file: string): boolean {
    if (pid === process.pid) return heldLockFiles.has(file);
    try {
      process.kill(pid, 0);
      return true;
    } catch (error) {
      // EPERM: the process exists but belongs to another user, so it is alive.
      return (error as NodeJS.ErrnoException).code === 'EPERM';
    }
  }
}
