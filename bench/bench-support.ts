/** Shared parts of the benchmarks: arguments, the database per engine, synthetic products. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { generateProducts } from '../apps/sample/src/cli/product-generator';
import { startPostgresServer } from '../test/support/postgres-server';

export type Engine = 'pglite' | 'postgres';
export const CONFIG_PATH = 'apps/sample/ai-entity-config.yml';

/** Value of `--name`, or `fallback`. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** A positive integer `--name`, with an error naming the flag. */
export function positiveInt(name: string, fallback: number): number {
  const raw = arg(name, String(fallback));
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be a positive integer, got "${raw}".`);
  return value;
}

/** `--engines a,b`, validated. */
export function engineList(): Engine[] {
  const engines = arg('engines', 'postgres,pglite').split(',') as Engine[];
  for (const engine of engines) {
    if (engine !== 'pglite' && engine !== 'postgres') throw new Error(`--engines accepts pglite and postgres, got "${engine}".`);
  }
  return engines;
}

/** Environment for createAiDataSource: DATABASE_URL (given, or a throwaway cluster) or a fresh PGlite data dir. */
export async function benchDatabase(engine: Engine): Promise<{ env: NodeJS.ProcessEnv; cleanup: () => Promise<void> }> {
  if (engine === 'postgres') {
    if (process.env.DATABASE_URL) return { env: { DATABASE_URL: process.env.DATABASE_URL }, cleanup: async () => undefined };
    const server = await startPostgresServer();
    return { env: { DATABASE_URL: server.url }, cleanup: () => server.stop() };
  }
  const dir = mkdtempSync(join(tmpdir(), 'ai-bench-'));
  return { env: { AI_DATA_DIR: dir }, cleanup: async () => rmSync(dir, { recursive: true, force: true }) };
}

/** Inserts `count` deterministic products (seed 7) with multi-row INSERTs, without indexing them. */
export async function insertBenchProducts(dataSource: DataSource, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 2000) {
    const chunk = [...generateProducts(7, start, Math.min(2000, count - start))];
    const params: unknown[] = [];
    const values = chunk.map((p) => {
      const b = params.length;
      params.push(p.id, p.name, p.description, p.category, p.price, p.createdAt);
      ids.push(p.id);
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6})`;
    });
    await dataSource.query(`INSERT INTO products (id, name, description, category, price, created_at) VALUES ${values.join(', ')}`, params);
  }
  return ids;
}

