import { DataSource, type DataSourceOptions } from 'typeorm';
import { resolveDatabase, type ResolvedDatabase } from './resolve-database';

/** PostgreSQL DataSource options without the connection target, which {@link createAiDataSource} decides. */
export type AiDataSourceOptions = Omit<Extract<DataSourceOptions, { type: 'postgres' }>, 'url' | 'host' | 'port' | 'type'> & {
  /** Connection pool size. Default 10. */
  poolSize?: number;
};

/** A DataSource that also stops the embedded database (if any) when it is destroyed. */
class ManagedDataSource extends DataSource {
  constructor(
    options: DataSourceOptions,
    private readonly database: ResolvedDatabase,
  ) {
    super(options);
  }

  override async destroy(): Promise<void> {
    try {
      if (this.isInitialized) await super.destroy();
    } finally {
      await this.database.close();
    }
  }
}

/**
 * Creates the application's TypeORM DataSource on `DATABASE_URL` (PostgreSQL with pgvector) or, when it is
 * not set, on the embedded PGlite database under `./data` (`AI_DATA_DIR`). Both are reached through the
 * same `pg` driver, so the code path is identical. Use it as `dataSourceFactory` of `TypeOrmModule`.
 *
 * @example
 * ```ts
 * TypeOrmModule.forRootAsync({
 *   useFactory: () => ({ type: 'postgres', entities: [Product, ...AI_CORE_ENTITIES], migrations: [...AI_CORE_MIGRATIONS], migrationsRun: true }),
 *   dataSourceFactory: (options) => createAiDataSource(options!),
 * })
 * ```
 */
export async function createAiDataSource(
  options: AiDataSourceOptions | DataSourceOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<DataSource> {
  const { poolSize: requested, ...rest } = options as AiDataSourceOptions;
  const poolSize = requested ?? (rest.extra as { max?: number } | undefined)?.max ?? 10;
  // The embedded server needs a connection slot per pooled connection, plus room for tools.
  const database = await resolveDatabase(env, { maxConnections: poolSize + 5 });
  return new ManagedDataSource(
    {
      ...(rest as object),
      type: 'postgres',
      url: database.url,
      uuidExtension: 'pgcrypto',
      extra: { ...((rest.extra as object) ?? {}), max: poolSize },
    } as DataSourceOptions,
    database,
  );
}
