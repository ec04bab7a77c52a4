import { EmbeddedPostgres } from './embedded-postgres';

/** The database the application should connect to, whichever way it was provided. */
export interface ResolvedDatabase {
  /** PostgreSQL connection string for `pg` / TypeORM. */
  url: string;
  /** True when the database is the embedded PGlite one started by this process. */
  embedded: boolean;
  /** Stops the embedded database and releases its data directory; does nothing for `DATABASE_URL`. */
  close(): Promise<void>;
}

/** Options for {@link resolveDatabase}; they only matter when no `DATABASE_URL` is set. */
export interface ResolveDatabaseOptions {
  /** Data directory for the embedded database when `AI_DATA_DIR` is not set. Default `./data`. */
  dataDir?: string;
  /** Connection limit of the embedded database; must cover the connection pool size. Default 20. */
  maxConnections?: number;
}

/**
 * Picks the database: `DATABASE_URL` when set (production), otherwise an embedded PostgreSQL with
 * pgvector so the application runs with no server to install. The data directory comes from
 * `AI_DATA_DIR`, then `options.dataDir`, then `./data`; the environment wins so that operators can
 * relocate the data without a code change.
 *
 * @throws EmbeddedDatabaseLockedError when the embedded data directory is in use by another process.
 */
export async function resolveDatabase(
  env: NodeJS.ProcessEnv = process.env,
  options: ResolveDatabaseOptions = {},
): Promise<ResolvedDatabase> {
  const databaseUrl = env.DATABASE_URL?.trim();
  if (databaseUrl) {
    return { url: databaseUrl, embedded: false, close: async () => undefined };
  }
  const embedded = await EmbeddedPostgres.start({
    dataDir: env.AI_DATA_DIR?.trim() || options.dataDir,
    maxConnections: options.maxConnections,
  });
  return { url: embedded.url, embedded: true, close: () => embedded.close() };
}
