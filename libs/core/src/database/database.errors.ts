/**
 * Another live process already serves the embedded database from the same data directory.
 * PGlite has no lock of its own, and two writers on one data directory corrupt it, so the
 * second process refuses to start instead.
 */
export class EmbeddedDatabaseLockedError extends Error {
  constructor(
    /** Absolute path of the data directory that is in use. */
    readonly dataDir: string,
    /** Process id recorded in the lock file. */
    readonly pid: number,
    /** Absolute path of the lock file, for the operator who needs to inspect or remove it. */
    readonly lockFile: string,
  ) {
    super(
      `The embedded database in "${dataDir}" is already in use by process ${pid}. ` +
        `Stop that process, or give this one its own database by setting DATABASE_URL ` +
        `or a different data directory (AI_DATA_DIR). If process ${pid} is not using it, delete "${lockFile}".`,
    );
    this.name = 'EmbeddedDatabaseLockedError';
  }
}
