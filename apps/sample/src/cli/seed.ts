/**
 * `npm run seed -- --count 100000 [--seed 42] [--batch 2000] [--truncate]`: fills the sample's `products`
 * table with synthetic products, the way a new adopter's existing data looks: present, but not indexed.
 *
 * Rows go in with plain multi-row INSERTs through `DataSource.query`, never through a repository, so the
 * live-indexing subscriber never sees them and nothing is embedded or queued. Making them searchable is
 * then the job of the migration (backfill) module, which is exactly what the seed exists to exercise.
 */
import 'reflect-metadata';
import type { DataSource } from 'typeorm';
import { type GeneratedProduct, generateProducts, MAX_SEED_OR_INDEX } from './product-generator';

// The core library and the entities (and with them TypeORM) are imported lazily, where needed: under
// ts-node they take seconds to load, and a mistyped flag should be answered at once.

/** Parsed command line of the seed. */
export interface SeedOptions {
  /** Products to generate, indices 0 to count - 1. */
  count: number;
  /** Dataset seed: the same seed always yields the same products, ids included. */
  seed: number;
  /** Rows per INSERT statement (and per transaction). */
  batch: number;
  /** Empty the products table, and the products' vectors and queued work, before inserting. */
  truncate: boolean;
}

const COLUMNS = ['id', 'name', 'description', 'category', 'price', 'created_at'] as const;

/** PostgreSQL's wire protocol counts a statement's bind parameters in 16 bits. */
const MAX_BIND_PARAMETERS = 65_535;

/** Largest `--batch` whose INSERT stays within {@link MAX_BIND_PARAMETERS}. */
export const MAX_BATCH = Math.floor(MAX_BIND_PARAMETERS / COLUMNS.length);

const DEFAULTS = { seed: 42, batch: 2000 } as const;

/** Time between progress lines, so that a large seed reports steadily without flooding the terminal. */
const PROGRESS_INTERVAL_MS = 1000;

const USAGE = `Usage: npm run seed -- --count <n> [--seed <n>] [--batch <n>] [--truncate]

Inserts <n> synthetic products into the sample's products table without indexing them
(DATABASE_URL, or the embedded database under AI_DATA_DIR / ./data).

  --count <n>   How many products to generate (required), e.g. 100000.
  --seed <n>    Dataset seed, 0 to ${MAX_SEED_OR_INDEX} (default ${DEFAULTS.seed}). The same seed always
                yields the same products, so re-running inserts only the rows that are missing.
  --batch <n>   Rows per INSERT statement and transaction, 1 to ${MAX_BATCH} (default ${DEFAULTS.batch}).
  --truncate    Empty the products table first, together with the products' vectors and queued
                indexing work, so that search returns nothing stale.
  --help        Show this message.`;

/** A command-line mistake: reported with the usage text and exit code 2, without touching the database. */
export class SeedUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SeedUsageError';
  }
}

/**
 * Parses the seed's arguments (the part after `npm run seed --`); both `--flag value` and `--flag=value`
 * work.
 *
 * @returns the options, or `'help'` when `--help` was asked for.
 * @throws SeedUsageError naming the offending flag.
 */
export function parseSeedArgs(argv: readonly string[]): SeedOptions | 'help' {
  const raw = new Map<string, string>();
  let truncate = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') return 'help';
    if (arg === '--truncate') {
      truncate = true;
      continue;
    }
    const match = /^(--(?:count|seed|batch))(?:=(.*))?$/.exec(arg);
    if (!match) {
      throw new SeedUsageError(arg.startsWith('-') ? `Unknown option '${arg}'.` : `Unexpected argument '${arg}'; every value follows its flag, e.g. --count ${arg}.`);
    }
    const [, flag, inline] = match;
    const value = inline ?? argv[++i];
    if (value === undefined || (inline === undefined && value.startsWith('--'))) {
      throw new SeedUsageError(`${flag} needs a value, e.g. ${flag} ${flag === '--batch' ? DEFAULTS.batch : 100}.`);
    }
    raw.set(flag, value);
  }

  const countText = raw.get('--count');
  if (countText === undefined) throw new SeedUsageError('--count is required, e.g. npm run seed -- --count 100000.');
  return {
    count: integerFlag('--count', countText, 'a positive integer', 1, MAX_SEED_OR_INDEX + 1),
    seed: integerFlag('--seed', raw.get('--seed') ?? String(DEFAULTS.seed), `an integer from 0 to ${MAX_SEED_OR_INDEX}`, 0, MAX_SEED_OR_INDEX),
    batch: integerFlag('--batch', raw.get('--batch') ?? String(DEFAULTS.batch), `an integer from 1 to ${MAX_BATCH}`, 1, MAX_BATCH),
    truncate,
  };
}

function integerFlag(flag: string, text: string, expected: string, min: number, max: number): number {
  // Digits only: Number() would also accept "1e5", "0x10" and " 7 ", which are more likely typos than intent.
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(value) || value < min) throw new SeedUsageError(`${flag} must be ${expected}, got '${text}'.`);
  if (value > max) throw new SeedUsageError(`${flag} must be ${expected}, got '${text}', which is more than ${max.toLocaleString('en-US')}.`);
  return value;
}

/** What {@link seedProducts} did. */
export interface SeedResult {
  /** Rows sent to the database. */
  processed: number;
  /** Rows that were new; the others already existed (same seed, same ids). */
  inserted: number;
  /** Seconds spent inserting, excluding database start-up and migrations. */
  seconds: number;
  /** True when the run stopped early because it was asked to (Ctrl+C). */
  interrupted: boolean;
}

/**
 * Inserts the products `0 .. count - 1` of `seed` in chunks of `batch` rows, each chunk in its own
 * transaction and `ON CONFLICT (id) DO NOTHING`, so an interrupted or repeated run can simply be run again.
 *
 * @param shouldStop Polled between chunks; returning true ends the run after the chunk in flight.
 */
export async function seedProducts(
  dataSource: DataSource,
  options: SeedOptions,
  report: (line: string) => void,
  shouldStop: () => boolean = () => false,
): Promise<SeedResult> {
  if (options.truncate) await truncateProducts(dataSource, report);

  const started = performance.now();
  let lastReport = started;
  let processed = 0;
  let inserted = 0;
  const fullBatch = Math.min(options.batch, options.count);
  const fullBatchSql = insertStatement(fullBatch);
  while (processed < options.count && !shouldStop()) {
    const chunk = [...generateProducts(options.seed, processed, Math.min(options.batch, options.count - processed))];
    const sql = chunk.length === fullBatch ? fullBatchSql : insertStatement(chunk.length);
    inserted += await dataSource.transaction(async (manager) => {
      const rows: Array<{ inserted: number }> = await manager.query(sql, chunk.flatMap(rowParameters));
      return rows[0].inserted;
    });
    processed += chunk.length;

    const now = performance.now();
    if (now - lastReport >= PROGRESS_INTERVAL_MS && processed < options.count) {
      lastReport = now;
      const percent = Math.floor((processed / options.count) * 100);
      report(`  ${fmt(processed)} / ${fmt(options.count)} (${percent}%), ${fmt(inserted)} new, ${fmt(rate(processed, now - started))} rows/s`);
    }
  }
  return { processed, inserted, seconds: (performance.now() - started) / 1000, interrupted: processed < options.count };
}

/**
 * `INSERT ... VALUES (...), (...) ON CONFLICT DO NOTHING` for `rows` rows, wrapped so the database answers
 * with the number of rows it actually inserted rather than echoing every id back.
 */
function insertStatement(rows: number): string {
  const tuples: string[] = [];
  for (let row = 0; row < rows; row++) {
    const base = row * COLUMNS.length;
    tuples.push(`(${COLUMNS.map((_, column) => `$${base + column + 1}`).join(', ')})`);
  }
  return (
    `WITH inserted AS (INSERT INTO products (${COLUMNS.join(', ')}) VALUES ${tuples.join(', ')} ` +
    `ON CONFLICT (id) DO NOTHING RETURNING 1) SELECT count(*)::int AS inserted FROM inserted`
  );
}

/** Bind values in {@link COLUMNS} order; the price as text so that numeric(10, 2) receives exactly two decimals. */
function rowParameters(product: GeneratedProduct): unknown[] {
  return [product.id, product.name, product.description, product.category, product.price.toFixed(2), product.createdAt.toISOString()];
}

async function truncateProducts(dataSource: DataSource, report: (line: string) => void): Promise<void> {
  const [{ AiIndexPurgeService, getAICapableOptions }, { Product }] = await Promise.all([
    import('@ai-infrastructure/core'),
    import('../products/product.entity'),
  ]);
  const entityType = getAICapableOptions(Product)?.entityType;
  if (!entityType) throw new Error('Product is not decorated with @AICapable, so there is no entity type whose vectors --truncate could remove.');
  const purge = new AiIndexPurgeService(dataSource);
  const removed = await dataSource.transaction(async (manager) => {
    const [{ count }]: Array<{ count: number }> = await manager.query(`SELECT count(*)::int AS count FROM products`);
    await manager.query(`TRUNCATE products`);
    // Vectors of deleted products would otherwise keep turning up in search results; the purge commits
    // (or rolls back) with the truncate.
    await purge.purgeEntityType(entityType, manager);
    return count;
  });
  report(`Truncated products (${fmt(removed)} rows removed, with their vectors and queued indexing work).`);
}

/**
 * Which database the CLI commands work on, for their output: a server without its credentials, or the
 * embedded data directory. Mirrors the choice `createAiDataSource` makes.
 */
export function describeTarget(env: NodeJS.ProcessEnv): string {
  const url = env.DATABASE_URL?.trim();
  if (!url) return `the embedded database in ${env.AI_DATA_DIR?.trim() || './data'}`;
  try {
    const parsed = new URL(url);
    return `${parsed.hostname}${parsed.port ? `:${parsed.port}` : ''}${parsed.pathname} (DATABASE_URL)`;
  } catch {
    return 'DATABASE_URL';
  }
}

function rate(rows: number, elapsedMs: number): number {
  return elapsedMs > 0 ? Math.round((rows / elapsedMs) * 1000) : 0;
}

function fmt(value: number): string {
  return value.toLocaleString('en-US');
}

/** Runs the seed command and returns the process exit code: 0 done, 1 failed, 2 bad usage, 130 interrupted. */
async function main(argv: readonly string[]): Promise<number> {
  let options: SeedOptions | 'help';
  try {
    options = parseSeedArgs(argv);
  } catch (error) {
    if (!(error instanceof SeedUsageError)) throw error;
    console.error(`${error.message}\n\n${USAGE}`);
    return 2;
  }
  if (options === 'help') {
    console.log(USAGE);
    return 0;
  }

  let stopRequested = false;
  const onSignal = () => {
    if (stopRequested) return;
    stopRequested = true;
    console.log('Stopping after the current batch; run the same command again to continue where it left off.');
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  const startedAt = performance.now();
  console.log(
    `Seeding ${fmt(options.count)} products (seed ${options.seed}, ${fmt(options.batch)} rows per batch) into ${describeTarget(process.env)}.`,
  );
  const [{ createAiDataSource }, { sampleDataSourceOptions }] = await Promise.all([import('@ai-infrastructure/core'), import('../sample.config')]);
  const dataSource = await createAiDataSource({ type: 'postgres', ...sampleDataSourceOptions() });
  try {
    await dataSource.initialize();
    console.log(`Database ready in ${((performance.now() - startedAt) / 1000).toFixed(1)} s.`);
    const result = await seedProducts(dataSource, options, (line) => console.log(line), () => stopRequested);
    const skipped = result.processed - result.inserted;
    console.log(
      `${result.interrupted ? 'Interrupted' : 'Done'}: ${fmt(result.inserted)} rows inserted` +
        `${skipped ? ` (${fmt(skipped)} already present)` : ''} of ${fmt(result.processed)} processed, ` +
        `${result.seconds.toFixed(1)} s elapsed, ${fmt(rate(result.processed, result.seconds * 1000))} rows/s.`,
    );
    return result.interrupted ? 130 : 0;
  } finally {
    // Also stops the embedded database and releases its data directory, even after a failure.
    await dataSource.destroy();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(`Seeding failed: ${explain(error)}`);
      if (error instanceof Error && error.stack) console.error(error.stack);
      process.exit(1);
    },
  );
}

/** The error's message, plus the likely fix for the mistakes people actually make. */
function explain(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  // 42P01 undefined_table: the schema is missing, typically because DB_MIGRATIONS_RUN=false skipped migrations.
  if ((error as { code?: string } | null)?.code === '42P01') {
    return `${message}. Run npm run db:migrate first (or unset DB_MIGRATIONS_RUN=false, which skips migrations at start-up).`;
  }
  return message.endsWith('.') ? message : `${message}.`;
}
