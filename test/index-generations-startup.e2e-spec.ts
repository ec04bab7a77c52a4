import { performance } from 'node:perf_hooks';
import { NestFactory } from '@nestjs/core';
import { IndexGenerationService, type AiCoreModuleOptions } from '@ai-infrastructure/core';
import { IndexGenerationMaintenance, PgVectorStore } from '@ai-infrastructure/core/internal';
import { bootIndexingApp, countOf, indexingTestModule } from './fixtures/indexing-app.fixture';
import { expectConsistentGenerations } from './fixtures/generations.fixture';
import { describeEachEngine } from './support/test-database';

/** Vectors of the serving generation. */
const VECTORS = 100_000;
/**
 * Dimensions of the serving generation. Small, so that building its HNSW index before the measurement
 * takes seconds on a busy machine; a boot that built it again would still take many times a plain boot.
 */
const DIMENSIONS = 64;
/** Boots measured per configuration; the median is compared. */
const BOOTS = 3;

/**
 * A cheap graph (pgvector's HNSW build of 100,000 vectors takes minutes on a busy 2-core machine with the
 * defaults); every boot uses the same parameters, so none has a reason to rebuild the index.
 */
const HNSW = { m: 4, efConstruction: 16 };
/** The serving configuration, and a changed model (other dimensions, so another model) that retains it. */
const UNCHANGED: AiCoreModuleOptions = { embedding: { provider: 'hashing', dimensions: DIMENSIONS }, search: { hnsw: HNSW } };
const CHANGED: AiCoreModuleOptions = {
  embedding: { provider: 'hashing', dimensions: DIMENSIONS / 2 },
  retainedEmbeddings: [{ provider: 'hashing', dimensions: DIMENSIONS }],
  search: { hnsw: HNSW },
};

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/**
 * Startup with a changed model does no index work (issue 13, section 4): on a table of 100,000 vectors of
 * the serving generation (with its HNSW index on PostgreSQL), an application configured with another
 * model starts in about the time of one whose configuration did not change — it only records the new
 * generation as BUILDING. Compared as a ratio of median start times (module creation, migrations and
 * init), never as an absolute time.
 */
describeEachEngine('Index generations: startup with a changed model', ({ getUrl, engine }) => {
  let servingId: number;
  let indexesBefore: string[];

  const indexes = async (url: string) => {
    const app = await bootIndexingApp({ databaseUrl: url, core: { ...UNCHANGED, worker: { enabled: false }, liveIndexing: false } });
    try {
      const rows: Array<{ indexname: string }> = await app.dataSource.query(
        `SELECT indexname FROM pg_indexes WHERE tablename = 'ai_searchable_entities' ORDER BY indexname`,
      );
      return rows.map((r) => r.indexname);
    } finally {
      await app.close();
    }
  };

  /** Creates, initialises and closes an app; returns the start time in ms (creation with migrations, then init). */
  const startTime = async (core: AiCoreModuleOptions): Promise<number> => {
    const started = performance.now();
    const app = await NestFactory.create(indexingTestModule({ databaseUrl: getUrl(), core: { ...core, liveIndexing: false } }), { logger: ['error'], abortOnError: false });
    try {
      await app.init();
      const elapsed = performance.now() - started;
      await app.get(IndexGenerationMaintenance).settled();
      return elapsed;
    } finally {
      await app.close();
    }
  };

  beforeAll(async () => {
    // The serving generation, its vectors written by SQL (embedding 100,000 texts is not what is measured).
    const setup = await bootIndexingApp({ databaseUrl: getUrl(), core: { ...UNCHANGED, worker: { enabled: false }, liveIndexing: false } });
    try {
      const serving = await setup.app.get(IndexGenerationService).serving('product');
      servingId = serving.id;
      const store = setup.app.get(PgVectorStore);
      // Loaded without the index, which is then built once (as after a generation's load).
      if (serving.indexName) await store.dropIndex(serving.indexName, false);
      await setup.dataSource.query(
        `INSERT INTO ai_searchable_entities (entity_type, entity_id, generation_id, embedding, content_hash, model, dimensions, metadata)
         SELECT 'product', 'p' || g, $1,
                (SELECT array_agg(random() - 0.5 + 0 * g + 0 * d) FROM generate_series(1, $2) d)::vector,
                md5(g::text) || md5('x' || g), $3, $2, '{}'::jsonb
           FROM generate_series(1, $4) g`,
        [serving.id, DIMENSIONS, serving.model, VECTORS],
      );
      const name = await store.ensureIndex(serving, { concurrently: false });
      if (engine === 'postgres') expect(name).toBe(serving.indexName);
      await setup.dataSource.query(`ANALYZE ai_searchable_entities`);
      expect(await countOf(setup.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE generation_id = $1`, [serving.id])).toBe(VECTORS);
    } finally {
      await setup.close();
    }
    indexesBefore = await indexes(getUrl());
    if (engine === 'postgres') expect(indexesBefore).toContain(`ai_searchable_entities_hnsw_g${servingId}`);
  }, 600_000);

  it('starts about as fast as without a change: no index work at boot, the new model only recorded as BUILDING', async () => {
    const unchanged: number[] = [];
    const changed: number[] = [];
    // Interleaved, so a slow phase of a busy machine weighs on both sides.
    for (let i = 0; i < BOOTS; i++) {
      unchanged.push(await startTime(UNCHANGED));
      changed.push(await startTime(CHANGED));
    }
    const ratio = median(changed) / median(unchanged);
    const figures = `changed ${changed.map((t) => t.toFixed(0)).join('/')} ms, unchanged ${unchanged.map((t) => t.toFixed(0)).join('/')} ms`;
    expect({ ratio: Number(ratio.toFixed(2)), below: ratio < 2.5, figures }).toMatchObject({ below: true });

    // The change was recorded, and nothing was built or dropped: same indexes, the serving generation untouched.
    // (A boot with the old configuration leaves the BUILDING generation as it is, with a warning, so every
    // boot with the new one finds it: the newest generation is that one.)
    const app = await bootIndexingApp({ databaseUrl: getUrl(), core: { ...CHANGED, worker: { enabled: false }, liveIndexing: false } });
    try {
      const list = await app.app.get(IndexGenerationService).list('product');
      expect(list[0]).toMatchObject({ state: 'BUILDING', model: `feature-hashing-v1-${DIMENSIONS / 2}`, loadedAt: null, indexName: null });
      expect(list.find((g) => g.id === servingId)).toMatchObject({ state: 'SERVING' });
      expect(list.filter((g) => g.indexName !== null).map((g) => g.id)).toEqual(engine === 'postgres' ? [servingId] : []);
      await expectConsistentGenerations(app.dataSource);
      expect(await countOf(app.dataSource, `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE generation_id = $1`, [servingId])).toBe(VECTORS);
    } finally {
      await app.close();
    }
    expect(await indexes(getUrl())).toEqual(indexesBefore);
  }, 600_000);
});
