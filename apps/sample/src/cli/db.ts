/**
 * `npm run db:migrate | db:status | db:revert`: the sample's schema migrations, run by hand instead of at
 * application start-up (set `DB_MIGRATIONS_RUN=false` for the app to leave them to this tool).
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { describeTarget } from './seed';

const COMMANDS = {
  migrate: 'run every pending migration and list what ran',
  status: 'list every migration with whether it is applied',
  revert: 'undo the most recently applied migration',
} as const;

type Command = keyof typeof COMMANDS;

const USAGE = `Usage: npm run db:<command>   (or: ts-node apps/sample/src/cli/db.ts <command>)

Commands:
${Object.entries(COMMANDS)
  .map(([name, summary]) => `  ${name.padEnd(8)} ${summary}`)
  .join('\n')}

The database is DATABASE_URL when set, otherwise the embedded one under AI_DATA_DIR (default ./data).`;

/** One migration as `status` reports it. */
export interface MigrationState {
  name: string;
  /** Whether the migration is recorded in the migrations table. */
  applied: boolean;
  /** Position in the order migrations were applied (the table's id), when applied. */
  appliedOrder?: number;
  /** The `timestamp` column the migrations table stores for it, when applied. */
  recordedTimestamp?: number;
  /** False for a migration the database has applied but this build does not contain. */
  known: boolean;
}

/** A row of TypeORM's migrations table. */
interface AppliedMigration {
  id: number;
  timestamp: number;
  name: string;
}

/**
 * Every migration this build knows, in the order TypeORM runs them, followed by any the database has
 * applied that this build lacks. Reads the migrations table without creating it, so asking for the
 * status of a fresh database changes nothing.
 */
export async function migrationStates(dataSource: DataSource): Promise<MigrationState[]> {
  const applied = await appliedMigrations(dataSource);
  const byName = new Map(applied.map((row) => [row.name, row]));
  const known = dataSource.migrations.map((migration) => migration.name ?? migration.constructor.name);
  // TypeORM orders migrations by the 13-digit timestamp that ends each name; so does this list.
  const ordered = [...known].sort((a, b) => Number(a.slice(-13)) - Number(b.slice(-13)));
  const states: MigrationState[] = ordered.map((name) => {
    const row = byName.get(name);
    return { name, applied: !!row, appliedOrder: row?.id, recordedTimestamp: row?.timestamp, known: true };
  });
  for (const row of applied) {
    if (!known.includes(row.name)) {
      states.push({ name: row.name, applied: true, appliedOrder: row.id, recordedTimestamp: row.timestamp, known: false });
    }
  }
  return states;
}

async function appliedMigrations(dataSource: DataSource): Promise<AppliedMigration[]> {
  const { migrationsTableName = 'migrations', schema } = dataSource.options as { migrationsTableName?: string; schema?: string };
  const [{ exists }]: Array<{ exists: boolean }> = await dataSource.query(
    `SELECT to_regclass(CASE WHEN $1::text IS NULL THEN quote_ident($2) ELSE quote_ident($1) || '.' || quote_ident($2) END) IS NOT NULL AS exists`,
    [schema ?? null, migrationsTableName],
  );
  if (!exists) return [];
  const table = (schema ? `${dataSource.driver.escape(schema)}.` : '') + dataSource.driver.escape(migrationsTableName);
  const rows: Array<{ id: number | string; timestamp: number | string; name: string }> = await dataSource.query(
    `SELECT id, timestamp, name FROM ${table} ORDER BY id`,
  );
  // bigint columns arrive as strings from pg; the values involved fit a double exactly.
  return rows.map((row) => ({ id: Number(row.id), timestamp: Number(row.timestamp), name: row.name }));
}

async function migrate(dataSource: DataSource): Promise<void> {
  const ran = await dataSource.runMigrations();
  if (ran.length === 0) {
    const applied = (await appliedMigrations(dataSource)).length;
    console.log(`No pending migrations: the database is up to date (${plural(applied, 'migration')} applied).`);
    return;
  }
  console.log(`Ran ${plural(ran.length, 'migration')}:`);
  for (const migration of ran) console.log(`  ${migration.name}`);
}

async function status(dataSource: DataSource): Promise<void> {
  const states = await migrationStates(dataSource);
  const applied = states.filter((s) => s.applied).length;
  const pending = states.filter((s) => !s.applied).length;
  console.log(`Migrations: ${plural(states.length, 'migration')}, ${applied} applied, ${pending} pending.`);
  const width = Math.max(...states.map((s) => s.name.length));
  for (const state of states) {
    const label = state.applied ? `applied #${state.appliedOrder}` : 'pending';
    const detail = state.applied ? `  recorded timestamp ${state.recordedTimestamp} (${new Date(state.recordedTimestamp!).toISOString()})` : '';
    const unknown = state.known ? '' : '  (not in this build, so it cannot be reverted from here)';
    console.log(`  ${label.padEnd(11)} ${state.name.padEnd(width)}${detail}${unknown}`.trimEnd());
  }
  // Said explicitly because TypeORM's own log calls this value the time the migration "was executed".
  if (applied > 0) {
    console.log(`"#" is the order migrations were applied in. TypeORM records each migration's own timestamp (the one in its name), not the time it was applied.`);
  }
  if (pending > 0) console.log('Run npm run db:migrate to apply the pending migrations.');
}

async function revert(dataSource: DataSource): Promise<void> {
  const before = await appliedMigrations(dataSource);
  const last = before.at(-1);
  if (!last) {
    console.log('Nothing to revert: no migration has been applied.');
    return;
  }
  await dataSource.undoLastMigration();
  const remaining = before.length - 1;
  console.log(`Reverted ${last.name} (applied #${last.id}). ${plural(remaining, 'migration')} still applied.`);
  console.log('Run npm run db:migrate to apply it again.');
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** Runs one command and returns the process exit code: 0 done, 1 failed, 2 bad usage. */
async function main(argv: readonly string[]): Promise<number> {
  const [command, ...extra] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === undefined || !Object.hasOwn(COMMANDS, command)) {
    const problem = command === undefined ? 'No command given.' : `Unknown command '${command}'.`;
    console.error(`${problem} Use one of: ${Object.keys(COMMANDS).join(', ')}.\n\n${USAGE}`);
    return 2;
  }
  if (extra.length > 0) {
    console.error(`The ${command} command takes no arguments, but got: ${extra.join(' ')}.\n\n${USAGE}`);
    return 2;
  }

  console.log(`Database: ${describeTarget(process.env)}.`);
  // Migrations must not run on initialize: that is what migrate does, and status and revert would be meaningless after it.
  // Loaded only now: the core library takes seconds to load under ts-node, and a usage error should not wait for it.
  const [{ createAiDataSource }, { sampleDataSourceOptions }] = await Promise.all([import('@ai-infrastructure/core'), import('../sample.config')]);
  const dataSource = await createAiDataSource({ type: 'postgres', ...sampleDataSourceOptions(), migrationsRun: false });
  try {
    await dataSource.initialize();
    const run: Record<Command, (ds: DataSource) => Promise<void>> = { migrate, status, revert };
    await run[command as Command](dataSource);
    return 0;
  } finally {
    // Also stops the embedded database and releases its data directory, even after a failure.
    await dataSource.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      console.error(`The ${process.argv[2]} command failed: ${message}${message.endsWith('.') ? '' : '.'}`);
      if (error instanceof Error && error.stack) console.error(error.stack);
      process.exit(1);
    },
  );
}
