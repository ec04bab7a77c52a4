/**
 * Search recall benchmark (PostgreSQL): `npm run bench:search -- [--rows 100000] [--queries 50] [--new 100]
 * [--rounds 2] [--configs today,default,ef100-efc128-exact50] [--keep]`.
 *
 * Seeds N synthetic products and their vectors (bulk, without the HNSW index) into one index generation,
 * builds that generation's index with `PgVectorStore.ensureIndex`, writes the last tenth of the catalogue (at most 5000) into it in batches, then
 * `--new` products with a unique invented word one by one through `PgVectorStore.upsert` (into the existing
 * graph, like live writes). Each query of the set (rare words of product names, the new products' unique
 * words, whole names, names filtered by their own and by another category, held-out descriptions) runs
 * through the index path (`PgVectorStore.search`, limit 10) under every configuration, and once as an exact
 * scan (the same rows ordered by an expression the index cannot serve). Printed per configuration: recall@10
 * against the exact scan per query class and overall, p50/p95 latency, and the ratio of p95 to today's.
 *
 * Configurations: `today` is what the store ran before issue 11 (pgvector's defaults: ef_search 40, m 16,
 * ef_construction 64, max_scan_tuples 20000, no exact scans); `default` is the library's defaults now;
 * otherwise `ef<N>[-m<N>][-efc<N>][-mst<N>][-exact<score × 100>]`, anything left out as today. Each set of
 * build parameters gets its own database with the same rows, so all configurations are measured in one run,
 * query by query, in rotating order (machines are noisy: compare ratios, not absolute figures).
 *
 * Uses DATABASE_URL when set (its role needs CREATEDB: one database per set of build parameters; `--keep`
 * keeps them and reuses them in the next run), otherwise a throwaway cluster (test/support/postgres-server.ts).
 */
import 'reflect-metadata';
import { readFileSync } from 'node:fs';
import { createAiDataSource, HashingEmbeddingProvider } from '@ai-infrastructure/core';
import {
  buildEntityText,
  computeContentHash,
  encodeVector,
  parseAiEntityConfig,
  PgVectorStore,
  resolveAiCoreOptions,
  type ResolvedAiCoreOptions,
  type VectorRecord,
  type VectorSearchHit,
} from '@ai-infrastructure/core/internal';
import { Client } from 'pg';
import type { DataSource } from 'typeorm';
import { generateProducts, type GeneratedProduct } from '../apps/sample/src/cli/product-generator';
import { sampleDataSourceOptions } from '../apps/sample/src/sample.config';
import { arg, benchDatabase, CONFIG_PATH, insertBenchProducts, positiveInt } from './bench-support';
import { ensureBenchGeneration, vectorCeiling } from './generation-vectors';

const LIMIT = 10;
/** Scores equal within this are ties: any of the tied rows counts as a true neighbour. */
const TIE_EPSILON = 1e-6;
const provider = new HashingEmbeddingProvider(384);
const entityConfig = parseAiEntityConfig(readFileSync(CONFIG_PATH, 'utf8'), CONFIG_PATH).get('product')!;

interface BenchConfig {
  name: string;
  search: ResolvedAiCoreOptions['search'];
}

type QueryClass = 'rare word' | 'unique word' | 'whole name' | 'filter: own cat.' | 'filter: other cat.' | 'held-out phrase';
const CLASSES: QueryClass[] = ['rare word', 'unique word', 'whole name', 'filter: own cat.', 'filter: other cat.', 'held-out phrase'];

interface BenchQuery {
  cls: QueryClass;
  text: string;
  filter?: Record<string, unknown>;
  /** The product that must come first (unique words). */
  expectedFirst?: string;
  vector: Float32Array;
  /** Exact top-LIMIT scores, best first. */
  exact: number[];
  /** The exact scan ranks `expectedFirst` first (a long text can dilute the word below the noise). */
  exactFirst?: boolean;
}

interface Measured {
  recall: number;
  top1: number;
  first?: boolean;
  ms: number;
  /** The store repeated the search as an exact scan. */
  exact: boolean;
}

/**
 * `today` is what the store ran before issue 11 (pgvector's defaults, no exact scans); `default` is the
 * library's defaults now; otherwise `ef<N>[-m<N>-efc<N>][-mst<N>][-exact<score × 100>]`, anything left out
 * as today.
 */
function parseConfig(name: string): BenchConfig {
  if (name === 'default') return { name, search: resolveAiCoreOptions({ embedding: { provider: 'hashing' } }).search };
  const spec = name === 'today' ? 'ef40-m16-efc64-mst20000' : name;
  const value = (key: string) => {
    const match = new RegExp(`(?:^|-)${key}(\\d+)(?:-|$)`).exec(spec);
    return match ? Number(match[1]) : undefined;
  };
  const rest = spec.replace(/(^|-)(ef|m|efc|mst|exact)\d+(?=-|$)/g, '');
  if (rest !== '') throw new Error(`--configs: "${name}" is not today, default or ef<N>[-m<N>-efc<N>][-mst<N>][-exact<N>].`);
  const exact = value('exact');
  // Validated like the module options, so a configuration pgvector would reject fails here with the key.
  const search = resolveAiCoreOptions({
    search: {
      efSearch: value('ef') ?? 40,
      maxScanTuples: value('mst') ?? 20_000,
      exactScanBelowScore: exact === undefined ? null : exact / 100,
      hnsw: { m: value('m') ?? 16, efConstruction: value('efc') ?? 64 },
    },
  }).search;
  return { name, search };
}

/** Deterministic invented words ("tizzobrisovk"): letters only, in no product of the catalogue. */
function inventedWord(i: number): string {
  const syllables = ['zo', 'qua', 'vex', 'bri', 'dul', 'fem', 'gor', 'hax', 'jun', 'kli', 'mox', 'nif', 'pry', 'sov', 'tiz', 'wub'];
  let x = (Math.imul(i + 1, 0x9e3779b1) >>> 0) ^ 0x5bd1e995;
  let word = '';
  for (let k = 0; k < 4; k++) {
    word += syllables[x & 15];
    x >>>= 4;
  }
  // A base-26 suffix of the index keeps every word distinct.
  let n = i;
  do {
    word += String.fromCharCode(97 + (n % 26));
    n = Math.floor(n / 26);
  } while (n > 0);
  return word;
}

function words(text: string): string[] {
  return text.toLowerCase().split(/[^a-z0-9\u0080-\uffff]+/).filter(Boolean);
}

/** The query set, from the catalogue (`rows` products, seed 7) and the new products. */
function buildQueries(rows: number, perClass: number, newProducts: Array<{ id: string; word: string }>) {
  const names: string[] = [];
  const categoryOf: string[] = [];
  const categories = new Set<string>();
  const descriptions = new Set<string>();
  const df = new Map<string, number>();
  for (const p of generateProducts(7, 0, rows)) {
    names.push(p.name);
    categoryOf.push(p.category);
    categories.add(p.category);
    descriptions.add(p.description);
    for (const w of new Set(words(p.name))) df.set(w, (df.get(w) ?? 0) + 1);
  }
  // perClass products spread evenly over the catalogue, starting at `offset`.
  const sample = (offset: number) => Array.from({ length: perClass }, (_, i) => (offset + Math.floor((i * rows) / perClass)) % rows);
  const rare = [...df.entries()]
    .filter(([w]) => /[a-z]/.test(w))
    .sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, perClass)
    .map(([w]) => w);
  const categoryList = [...categories].sort();
  const heldOut: string[] = [];
  for (const p of generateProducts(99, 0, perClass * 4)) {
    if (heldOut.length === perClass) break;
    if (!descriptions.has(p.description)) heldOut.push(p.description);
  }
  const queries: Array<Omit<BenchQuery, 'vector' | 'exact'>> = [
    ...rare.map((text) => ({ cls: 'rare word' as const, text })),
    ...newProducts.slice(0, perClass).map((p) => ({ cls: 'unique word' as const, text: p.word, expectedFirst: p.id })),
    ...sample(0).map((j) => ({ cls: 'whole name' as const, text: names[j] })),
    // A name with its own product's category, and with another category: then the iterative scan must walk
    // past the name's neighbours to find rows that pass the filter.
    ...sample(Math.floor(rows / (2 * perClass))).map((j) => ({
      cls: 'filter: own cat.' as const,
      text: names[j],
      filter: { category: categoryOf[j] },
    })),
    ...sample(Math.floor(rows / (3 * perClass))).map((j, i) => {
      const others = categoryList.filter((c) => c !== categoryOf[j]);
      return { cls: 'filter: other cat.' as const, text: names[j], filter: { category: others[i % others.length] } };
    }),
    ...heldOut.map((text) => ({ cls: 'held-out phrase' as const, text })),
  ];
  return { queries, rareDf: rare.map((w) => df.get(w)!) };
}

const exactSql = (filter: boolean) => `SELECT entity_id, 1 - (embedding::vector(384) <=> $1::vector(384)) AS score
    FROM ai_searchable_entities
   WHERE model = '${provider.model}' AND dimensions = 384 AND entity_type = 'product' ${filter ? 'AND metadata @> $3::jsonb' : ''}
   ORDER BY score DESC LIMIT $2`;

async function exactSearch(dataSource: DataSource, q: Pick<BenchQuery, 'vector' | 'filter'>): Promise<Array<{ entity_id: string; score: number }>> {
  const params: unknown[] = [encodeVector(q.vector), LIMIT];
  if (q.filter) params.push(JSON.stringify(q.filter));
  const rows: Array<{ entity_id: string; score: string | number }> = await dataSource.query(exactSql(!!q.filter), params);
  return rows.map((r) => ({ entity_id: r.entity_id, score: Number(r.score) }));
}

/** Share of the returned hits (at most LIMIT) that belong to the exact top-LIMIT (ties included). */
function recallAt(hits: VectorSearchHit[], exact: number[]): number {
  if (exact.length === 0) return 1;
  const kth = exact[exact.length - 1];
  return hits.slice(0, LIMIT).filter((h) => h.score >= kth - TIE_EPSILON).length / exact.length;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

interface Space {
  key: string;
  dataSource: DataSource;
  /** The generation holding the vectors (the database's serving one). */
  generation: { id: number; dimensions: number };
  buildSeconds: number;
  /** Vector writes per second into the built index, in batches of 1000. */
  writesPerSecond: number;
}

async function main() {
  const rows = positiveInt('rows', 100_000);
  const perClass = positiveInt('queries', 50);
  const newCount = Math.max(positiveInt('new', 100), perClass);
  const rounds = positiveInt('rounds', 2);
  const keep = process.argv.includes('--keep');
  const configs = arg('configs', 'today,default,ef400,ef1000,ef40-exact50,ef400-mst2000-exact50,ef100-efc128-exact50').split(',').map(parseConfig);
  if (configs[0].name !== 'today') configs.unshift(parseConfig('today'));

  console.log(
    `bench:search — ${rows} products + ${newCount} new ones with a unique word, ${perClass} queries per class, limit ${LIMIT}, ` +
      `provider hashing (384-d), ${rounds} timed round(s)`,
  );
  const { env, cleanup } = await benchDatabase('postgres');
  const adminUrl = env.DATABASE_URL!;
  const spaces = new Map<string, Space>();
  const newProducts = [...generateProducts(11, 0, newCount)].map((p, i) => ({ ...p, name: `${p.name} ${inventedWord(i)}`, word: inventedWord(i) }));
  try {
    // One database per set of build parameters, with identical rows.
    for (const config of configs) {
      const { m, efConstruction } = config.search.hnsw;
      const key = `m${m}_efc${efConstruction}`;
      if (spaces.has(key)) continue;
      spaces.set(key, await seedSpace(adminUrl, key, config, rows, newProducts, keep));
    }
    const { queries: specs, rareDf } = buildQueries(rows, perClass, newProducts.map((p) => ({ id: p.id, word: p.word })));
    console.log(`rare words: document frequency ${Math.min(...rareDf)}–${Math.max(...rareDf)} of ${rows} names`);

    // Ground truth and the exact scan's latency, on the first database (all hold the same rows).
    const reference = spaces.values().next().value!.dataSource;
    const queries: BenchQuery[] = [];
    const exactMs: Record<string, number[]> = {};
    for (const spec of specs) {
      const vector = provider.embedOne(spec.text);
      const started = performance.now();
      const exact = await exactSearch(reference, { vector, filter: spec.filter });
      (exactMs[spec.cls] ??= []).push(performance.now() - started);
      const exactFirst = spec.expectedFirst ? exact[0]?.entity_id === spec.expectedFirst : undefined;
      queries.push({ ...spec, vector, exact: exact.map((r) => r.score), exactFirst });
    }

    const stores = configs.map((config) => {
      const space = spaces.get(`m${config.search.hnsw.m}_efc${config.search.hnsw.efConstruction}`)!;
      return { config, space, store: new PgVectorStore(space.dataSource, { search: config.search }) };
    });
    // What the application does at startup and after a load: it detects PostgreSQL and finds the
    // generation's index built with its parameters (a store with other build parameters would rebuild it).
    for (const { store, space } of stores) {
      await store.detectEngine();
      await store.ensureIndex(space.generation, { concurrently: false });
    }

    // Counts the searches the store repeated as an exact scan (its exact variant orders by the score).
    let exactRepeats = 0;
    for (const space of spaces.values()) {
      const query = space.dataSource.query.bind(space.dataSource);
      space.dataSource.query = ((sql: string, ...rest: unknown[]) => {
        if (sql.includes('ORDER BY score DESC')) exactRepeats++;
        return (query as (...args: unknown[]) => Promise<unknown>)(sql, ...rest);
      }) as DataSource['query'];
    }
    const results = new Map<string, Measured[]>(configs.map((c) => [c.name, []]));
    // Round 0 warms caches and is not recorded; then every query runs under every configuration, in an order
    // that rotates per query so no configuration always runs first (or right after the exact scan).
    for (let round = 0; round <= rounds; round++) {
      for (let qi = 0; qi < queries.length; qi++) {
        const q = queries[qi];
        for (let k = 0; k < stores.length; k++) {
          const { config, store, space } = stores[(qi + round + k) % stores.length];
          const repeatsBefore = exactRepeats;
          const started = performance.now();
          const hits = await store.search({
            generationId: space.generation.id,
            entityType: 'product',
            vector: q.vector,
            model: provider.model,
            dimensions: provider.dimensions,
            limit: LIMIT,
            filter: q.filter,
          });
          const ms = performance.now() - started;
          if (round === 0) continue;
          results.get(config.name)!.push({
            recall: recallAt(hits, q.exact),
            top1: hits[0]?.score ?? NaN,
            // Counted only where the exact scan ranks the product first: the index cannot do better than that.
            first: q.expectedFirst && q.exactFirst ? hits[0]?.entityId === q.expectedFirst : undefined,
            ms,
            exact: exactRepeats > repeatsBefore,
          });
        }
      }
    }

    printTables(configs, queries, results, exactMs, rounds, [...spaces.values()]);
  } finally {
    for (const space of spaces.values()) await space.dataSource.destroy().catch(() => undefined);
    if (!keep) for (const space of spaces.values()) await dropDatabase(adminUrl, space.key).catch(() => undefined);
    await cleanup();
  }
}

/** Creates (or, with --keep from an earlier run, reuses) one database: catalogue, vectors, index, new products. */
async function seedSpace(
  adminUrl: string,
  key: string,
  config: BenchConfig,
  rows: number,
  newProducts: Array<GeneratedProduct & { word: string }>,
  keep: boolean,
): Promise<Space> {
  const name = `bench_search_${rows}_${key}`;
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  let reuse = false;
  try {
    const exists = (await admin.query(`SELECT 1 FROM pg_database WHERE datname = $1`, [name])).rowCount === 1;
    if (exists && keep) reuse = true;
    else {
      if (exists) await admin.query(`DROP DATABASE "${name}" WITH (FORCE)`);
      await admin.query(`CREATE DATABASE "${name}"`);
    }
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  // A bulk build is a one-off: enough maintenance memory keeps the whole graph in memory (the default 64 MB
  // spills at ~28K rows and takes ~4× longer); searches are unaffected.
  const dataSource = await createAiDataSource(
    { type: 'postgres', ...sampleDataSourceOptions({}), poolSize: 3, extra: { options: '-c maintenance_work_mem=1GB' } },
    { DATABASE_URL: url.toString() },
  );
  await dataSource.initialize();
  const store = new PgVectorStore(dataSource, { search: config.search });
  await store.detectEngine();
  // No application boots on this database: the generation the vectors belong to is recorded here.
  const generation = await ensureBenchGeneration(dataSource);
  if (reuse) {
    console.log(`[${key}] reusing database ${name}`);
    return { key: name, dataSource, generation, buildSeconds: NaN, writesPerSecond: NaN };
  }
  await insertBenchProducts(dataSource, rows);
  // The last tenth (at most 5000) of the catalogue is written after the build, in worker-sized batches, to
  // measure what the build parameters cost every later vector write (each is inserted into the graph).
  const tail = Math.min(5_000, Math.floor(rows / 10));
  await vectorCeiling(dataSource, generation.id, rows - tail, 1000);
  await dataSource.query(`VACUUM ANALYZE ai_searchable_entities`);
  const started = performance.now();
  const indexName = await store.ensureIndex(generation, { concurrently: false });
  const buildSeconds = (performance.now() - started) / 1000;
  await dataSource.query(`UPDATE ai_index_generations SET index_name = $2 WHERE id = $1`, [generation.id, indexName]);
  const tailRecords = [...generateProducts(7, rows - tail, tail)].map((p) => record(p, generation.id));
  const writeStarted = performance.now();
  for (let i = 0; i < tailRecords.length; i += 1000) await store.upsert(tailRecords.slice(i, i + 1000));
  const writesPerSecond = tail / ((performance.now() - writeStarted) / 1000);
  await dataSource.query(`ANALYZE ai_searchable_entities`);
  // Written after the build, one at a time like live indexing: each is inserted into the existing graph.
  for (const p of newProducts) await store.upsert([record(p, generation.id)]);
  console.log(
    `[${key}] ${rows - tail} rows seeded, HNSW built in ${buildSeconds.toFixed(1)} s, ${tail} more written into it at ` +
      `${Math.round(writesPerSecond)} rows/s, then ${newProducts.length} new products one by one`,
  );
  return { key: name, dataSource, generation, buildSeconds, writesPerSecond };
}

/** The vector row of a product in generation `generationId`, as the workers write it. */
function record(p: GeneratedProduct, generationId: number): VectorRecord {
  const text = buildEntityText(p as unknown as Record<string, unknown>, entityConfig);
  return {
    generationId,
    entityType: 'product',
    entityId: p.id,
    vector: provider.embedOne(text),
    contentHash: computeContentHash(text, provider.model, provider.dimensions),
    model: provider.model,
    dimensions: provider.dimensions,
    metadata: { category: p.category, price: p.price },
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  const admin = new Client({ connectionString: adminUrl });
  await admin.connect();
  try {
    await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  } finally {
    await admin.end();
  }
}

function printTables(
  configs: BenchConfig[],
  queries: BenchQuery[],
  results: Map<string, Measured[]>,
  exactMs: Record<string, number[]>,
  rounds: number,
  spaces: Space[],
) {
  const perRound = queries.length;
  const classOf = (i: number) => queries[i % perRound].cls;
  const todayP95 = percentile(results.get(configs[0].name)!.map((r) => r.ms), 95);
  const todayP50 = percentile(results.get(configs[0].name)!.map((r) => r.ms), 50);
  const share = (rows: Measured[]) => `${Math.round((100 * rows.filter((r) => r.exact).length) / rows.length)}%`.padStart(5);
  const fmt = (x: number) => x.toFixed(2).padStart(7);
  const pct = (x: number) => x.toFixed(3).padStart(7);
  for (const config of configs) {
    const measured = results.get(config.name)!;
    const { efSearch, maxScanTuples, exactScanBelowScore, hnsw } = config.search;
    console.log(
      `\n${config.name}: ef_search ${Math.max(efSearch, 2 * LIMIT)}, max_scan_tuples ${maxScanTuples}, ` +
        `exact scan below score ${exactScanBelowScore ?? 'never'}, m ${hnsw.m}, ef_construction ${hnsw.efConstruction}`,
    );
    console.log(`  ${'class'.padEnd(18)} recall@10   first   p50 ms   p95 ms   exact   top-1 p5/p50 (exact scan's)`);
    for (const cls of CLASSES) {
      const rowsOf = measured.filter((_, i) => classOf(i) === cls);
      const firsts = rowsOf.filter((r) => r.first !== undefined);
      console.log(
        `  ${cls.padEnd(18)} ${pct(mean(rowsOf.map((r) => r.recall)))}  ${(firsts.length ? `${firsts.filter((r) => r.first).length / rounds}/${firsts.length / rounds}` : '–').padStart(6)}  ${fmt(percentile(rowsOf.map((r) => r.ms), 50))}  ${fmt(percentile(rowsOf.map((r) => r.ms), 95))}` +
          `  ${share(rowsOf)}   ${percentile(rowsOf.map((r) => r.top1), 5).toFixed(2)}/${percentile(rowsOf.map((r) => r.top1), 50).toFixed(2)}` +
          ` (${percentile(queries.filter((q) => q.cls === cls).map((q) => q.exact[0]), 5).toFixed(2)}/${percentile(queries.filter((q) => q.cls === cls).map((q) => q.exact[0]), 50).toFixed(2)})`,
      );
    }
    const p95 = percentile(measured.map((r) => r.ms), 95);
    console.log(
      `  ${'overall'.padEnd(18)} ${pct(mean(measured.map((r) => r.recall)))}          ${fmt(percentile(measured.map((r) => r.ms), 50))}  ${fmt(p95)}  ${share(measured)}   ` +
        `p50 ${(percentile(measured.map((r) => r.ms), 50) / todayP50).toFixed(2)}×, p95 ${(p95 / todayP95).toFixed(2)}× today's`,
    );
  }
  const unique = queries.filter((q) => q.expectedFirst);
  console.log(
    `\n"first": unique-word queries whose product the index path ranks first, of those the exact scan ranks first ` +
      `(${unique.filter((q) => q.exactFirst).length} of ${unique.length}; in the others a long text dilutes the word below the best unrelated match).`,
  );
  console.log(`\nexact scan (${perRound} queries, once each)`);
  console.log(`  ${'class'.padEnd(18)}  p50 ms   p95 ms`);
  for (const cls of CLASSES) console.log(`  ${cls.padEnd(18)} ${fmt(percentile(exactMs[cls], 50))}  ${fmt(percentile(exactMs[cls], 95))}`);
  const all = Object.values(exactMs).flat();
  console.log(`  ${'overall'.padEnd(18)} ${fmt(percentile(all, 50))}  ${fmt(percentile(all, 95))}`);
  const built = spaces.filter((s) => !Number.isNaN(s.buildSeconds));
  if (built.length) {
    console.log(`\nHNSW build (maintenance_work_mem 1GB) and vector writes into it afterwards (batches of 1000)`);
    for (const s of built) {
      console.log(`  ${s.key.replace(/^bench_search_\d+_/, '').padEnd(12)} build ${s.buildSeconds.toFixed(1).padStart(6)} s   writes ${String(Math.round(s.writesPerSecond)).padStart(5)} rows/s`);
    }
  }
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
