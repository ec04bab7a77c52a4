import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import { affectedCount } from '../common/query-result';
import { resolveAiCoreOptions, type ResolvedAiCoreOptions, type ResolvedSearchOptions } from '../config/ai-core-options.resolver';
import { chunkForParameters, encodeVector } from './vector-codec';
import type { PreparedVectorWrite, StoredVectorState, VectorRecord, VectorSearchHit, VectorSearchQuery, VectorStore } from './vector-store.interface';

const PARAMS_PER_ROW = 8;
const ROWS_PER_STATEMENT = 2_000;
/** pgvector's largest `hnsw.ef_search`. */
const MAX_EF_SEARCH = 1000;
/** pgvector's build parameters when an index names none (an index created before they were configurable). */
const PGVECTOR_DEFAULT_BUILD = { m: 16, efConstruction: 64 };

/**
 * {@link VectorStore} on pgvector in the application's database (`ai_searchable_entities`).
 *
 * On PostgreSQL each index generation gets its own partial HNSW (cosine) index (see {@link ensureIndex});
 * on PGlite the search is exact (an HNSW build in WASM is about 6x slower than the scans it would save at
 * embedded sizes).
 */
@Injectable()
export class PgVectorStore implements VectorStore {
  private readonly logger = new Logger(PgVectorStore.name);
  private embedded = false;
  private readonly settings: ResolvedSearchOptions;

  /**
   * @param options the resolved AiCoreModule options (their `search` part); without them (a store built by
   *   hand, e.g. in a test) the defaults apply.
   */
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Optional() @Inject(AI_CORE_RESOLVED_OPTIONS) options?: Pick<ResolvedAiCoreOptions, 'search'>,
  ) {
    this.settings = options?.search ?? resolveAiCoreOptions({}).search;
  }

  /** Whether the database is the embedded one (PGlite), which searches exactly and gets no HNSW index. */
  get isEmbedded(): boolean {
    return this.embedded;
  }

  /** Finds out which engine the DataSource talks to; called once at startup. */
  async detectEngine(): Promise<boolean> {
    const [{ version }] = await this.dataSource.query(`SELECT version() AS version`);
    this.embedded = /PGlite/i.test(version);
    return this.embedded;
  }

  /**
   * Ensures the HNSW index of one generation: a partial expression index over its rows
   * (`embedding::vector(N)` where `generation_id` is its id). An index with other build parameters
   * (`search.hnsw`), or left INVALID by a concurrent build that was interrupted, is dropped and built again.
   * Returns its name, or null on the embedded database (exact search, no index).
   *
   * `concurrently` builds without blocking writes (`CREATE INDEX CONCURRENTLY`, the way after a
   * generation's load); `session` sets `maintenance_work_mem` and `max_parallel_maintenance_workers` for
   * the build's connection only.
   */
  async ensureIndex(
    generation: { id: number; dimensions: number },
    options: { concurrently: boolean; session?: { maintenanceWorkMem: string | null; parallelWorkers: number | null } },
  ): Promise<string | null> {
    if (this.embedded) return null;
    const name = generationIndexName(generation.id);
    const { m, efConstruction } = this.settings.hnsw;
    const [existing]: Array<{ indexdef: string; valid: boolean }> = await this.dataSource.query(
      `SELECT pg_get_indexdef(i.indexrelid) AS indexdef, i.indisvalid AS valid
         FROM pg_index i WHERE i.indexrelid = to_regclass($1)`,
      [name],
    );
    const concurrently = options.concurrently ? 'CONCURRENTLY' : '';
    if (existing) {
      const built = buildParameters(existing.indexdef);
      if (existing.valid && built.m === m && built.efConstruction === efConstruction) return name;
      this.logger.warn(
        existing.valid
          ? `HNSW build parameters of ${name} changed from m=${built.m}, ef_construction=${built.efConstruction} to m=${m}, ef_construction=${efConstruction}; rebuilding it.`
          : `${name} was left invalid by an interrupted build; building it again.`,
      );
      await this.dataSource.query(`DROP INDEX ${concurrently} IF EXISTS ${name}`);
    }
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      const session = options.session;
      if (session?.maintenanceWorkMem) await runner.query(`SELECT set_config('maintenance_work_mem', $1, false)`, [session.maintenanceWorkMem]);
      if (session?.parallelWorkers !== null && session?.parallelWorkers !== undefined) {
        await runner.query(`SELECT set_config('max_parallel_maintenance_workers', $1, false)`, [String(session.parallelWorkers)]);
      }
      await runner.query(
        `CREATE INDEX ${concurrently} IF NOT EXISTS ${name} ON ai_searchable_entities
           USING hnsw ((embedding::vector(${generation.dimensions})) vector_cosine_ops)
           WITH (m = ${m}, ef_construction = ${efConstruction}) WHERE generation_id = ${generation.id}`,
      );
    } finally {
      // A pooled connection must not keep the build's settings.
      if (options.session) await runner.query(`RESET maintenance_work_mem; RESET max_parallel_maintenance_workers`).catch(() => undefined);
      await runner.release();
    }
    return name;
  }

  /** Drops an index (the generation's, when it is retired), without blocking writes when `concurrently`. */
  async dropIndex(name: string, concurrently: boolean): Promise<void> {
    if (this.embedded) return;
    await this.dataSource.query(`DROP INDEX ${concurrently ? 'CONCURRENTLY' : ''} IF EXISTS ${quoteIdentifier(name)}`);
  }

  /**
   * Deletes the rows of a generation in batches of `batchSize` (each its own short statement, so a
   * retirement of millions of rows never holds locks for long); returns how many were deleted.
   */
  async deleteGeneration(entityType: string, generationId: number, batchSize = 5_000): Promise<number> {
    let total = 0;
    for (;;) {
      const result = await this.dataSource.query(
        `DELETE FROM ai_searchable_entities WHERE ctid = ANY(ARRAY(
           SELECT ctid FROM ai_searchable_entities WHERE entity_type = $1 AND generation_id = $2 LIMIT $3))`,
        [entityType, generationId, batchSize],
      );
      const n = affectedCount(result);
      total += n;
      if (n < batchSize) return total;
    }
  }

  /**
   * The vectors of `entityType` filed under a generation that is not maintained (RETIRED, DISCARDED or
   * FAILED generations whose rows are not deleted yet, and ids no generation has): their exact count and
   * the first `limit` of them. The generations present in the table are found by a skip scan of the
   * generation index (one probe per distinct generation), and only those rows are read, so the cost is that
   * of the foreign rows, not of the table. Vectors filed under another entity type's maintained generation
   * (which no write of the library produces) are not looked for.
   */
  async foreignVectors(
    entityType: string,
    limit: number,
    manager?: EntityManager,
  ): Promise<{ count: number; items: Array<{ entityId: string; generationId: number }> }> {
    const runner = manager ?? this.dataSource.manager;
    const generations: Array<{ id: number }> = await runner.query(
      `WITH RECURSIVE present AS (
         (SELECT generation_id AS id FROM ai_searchable_entities ORDER BY generation_id LIMIT 1)
         UNION ALL
         SELECT (SELECT s.generation_id FROM ai_searchable_entities s WHERE s.generation_id > p.id ORDER BY s.generation_id LIMIT 1)
           FROM present p WHERE p.id IS NOT NULL)
       SELECT id FROM present
        WHERE id IS NOT NULL AND id NOT IN (SELECT id FROM ai_index_generations WHERE state IN ('BUILDING', 'READY', 'SERVING'))`,
    );
    if (generations.length === 0) return { count: 0, items: [] };
    const ids = generations.map((g) => g.id);
    const [{ n }]: Array<{ n: number }> = await runner.query(
      `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE entity_type = $1 AND generation_id = ANY($2::int[])`,
      [entityType, ids],
    );
    const items: Array<{ entity_id: string; generation_id: number }> =
      n === 0 || limit <= 0
        ? []
        : await runner.query(
            `SELECT entity_id, generation_id FROM ai_searchable_entities
              WHERE entity_type = $1 AND generation_id = ANY($2::int[]) ORDER BY generation_id, entity_id LIMIT $3`,
            [entityType, ids, limit],
          );
    return { count: n, items: items.map((r) => ({ entityId: r.entity_id, generationId: r.generation_id })) };
  }

  async upsert(records: VectorRecord[], manager?: EntityManager): Promise<void> {
    await this.prepareUpsert(records).run(manager);
  }

  prepareUpsert(records: VectorRecord[]): PreparedVectorWrite {
    const statements = chunkForParameters(records, PARAMS_PER_ROW, ROWS_PER_STATEMENT).map((chunk) => {
      const params: unknown[] = [];
      const values = chunk.map((r) => {
        const b = params.length;
        params.push(r.entityType, r.entityId, encodeVector(r.vector), r.contentHash, r.model, r.dimensions, JSON.stringify(r.metadata), r.generationId);
        return `($${b + 1}, $${b + 2}, $${b + 3}::vector, $${b + 4}, $${b + 5}, $${b + 6}::int, $${b + 7}::jsonb, now(), $${b + 8}::int)`;
      });
      const sql = `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, indexed_at, generation_id)
         VALUES ${values.join(', ')}
         ON CONFLICT (entity_type, entity_id, generation_id) DO UPDATE
           SET embedding = EXCLUDED.embedding, content_hash = EXCLUDED.content_hash, model = EXCLUDED.model,
               dimensions = EXCLUDED.dimensions, metadata = EXCLUDED.metadata, indexed_at = EXCLUDED.indexed_at`;
      return { sql, params };
    });
    return {
      run: async (manager?: EntityManager) => {
        const runner = manager ?? this.dataSource.manager;
        for (const { sql, params } of statements) await runner.query(sql, params);
      },
    };
  }

  async updateMetadata(
    entityType: string,
    generationId: number,
    items: Array<{ entityId: string; metadata: Record<string, unknown> }>,
    manager?: EntityManager,
  ): Promise<number> {
    if (items.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    const result = await runner.query(
      `UPDATE ai_searchable_entities s SET metadata = u.metadata
         FROM unnest($2::text[], $3::jsonb[]) AS u(entity_id, metadata)
        WHERE s.entity_type = $1 AND s.generation_id = $4 AND s.entity_id = u.entity_id AND s.metadata <> u.metadata`,
      [entityType, items.map((i) => i.entityId), items.map((i) => JSON.stringify(i.metadata)), generationId],
    );
    return affectedCount(result);
  }

  async refreshIfCurrent(
    entityType: string,
    entityId: string,
    expected: Array<{ generationId: number; contentHash: string }>,
    metadata: Record<string, unknown>,
    manager?: EntityManager,
  ): Promise<boolean> {
    const runner = manager ?? this.dataSource.manager;
    // Current only if every maintained generation (read here, so one created since the caller looked counts)
    // has a vector with the expected hash.
    const rows: Array<{ current: boolean }> = await runner.query(
      `WITH maintained AS (
         SELECT id FROM ai_index_generations WHERE entity_type = $1 AND state IN ('BUILDING', 'READY', 'SERVING')),
       expected AS (SELECT * FROM unnest($3::int[], $4::text[]) AS e(generation_id, content_hash)),
       verdict AS (
         SELECT (SELECT count(*) FROM maintained) > 0 AND NOT EXISTS (
                  SELECT 1 FROM maintained m
                   WHERE NOT EXISTS (
                     SELECT 1 FROM ai_searchable_entities s JOIN expected e ON e.generation_id = s.generation_id
                      WHERE s.entity_type = $1 AND s.entity_id = $2 AND s.generation_id = m.id AND s.content_hash = e.content_hash)) AS current),
       refreshed AS (
         UPDATE ai_searchable_entities SET metadata = $5::jsonb
          WHERE entity_type = $1 AND entity_id = $2 AND metadata <> $5::jsonb
            AND generation_id IN (SELECT id FROM maintained) AND (SELECT current FROM verdict))
       SELECT current FROM verdict`,
      [entityType, entityId, expected.map((e) => e.generationId), expected.map((e) => e.contentHash), JSON.stringify(metadata)],
    );
    return rows[0]?.current === true;
  }

  async delete(entityType: string, entityIds: string[], manager?: EntityManager, generationId?: number): Promise<number> {
    if (entityIds.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    const result = await runner.query(
      `DELETE FROM ai_searchable_entities
        WHERE entity_type = $1 AND entity_id = ANY($2::text[]) AND ($3::int IS NULL OR generation_id = $3)`,
      [entityType, entityIds, generationId ?? null],
    );
    return affectedCount(result);
  }

  /**
   * Nearest neighbours by cosine similarity. On PostgreSQL the HNSW index answers, with `hnsw.ef_search`
   * from `search.efSearch` and the limit, and iterative scans for filters. The search is repeated as an exact
   * scan of the matching rows when the index path
   * - returns fewer rows than the limit: fewer rows match, or the filter is so selective that the iterative
   *   scan gave up after `search.maxScanTuples` index tuples; either way the exact answer is cheap or needed;
   * - finds nothing scoring at least `search.exactScanBelowScore`: the graph walk did not reach the query's
   *   neighbourhood, which is what happens to an out-of-distribution query (one rare word with the lexical
   *   `hashing` provider), however large ef_search is (docs/performance.md, "Search recall").
   */
  async search(query: VectorSearchQuery): Promise<VectorSearchHit[]> {
    const n = query.dimensions;
    const params: unknown[] = [encodeVector(query.vector), query.entityType, query.limit];
    let filterSql = '';
    if (query.filter && Object.keys(query.filter).length > 0) {
      params.push(JSON.stringify(query.filter));
      filterSql = `AND metadata @> $${params.length}::jsonb`;
    }
    // The generation as a literal lets the planner match the generation's partial HNSW index; model and
    // dimensions as literals, the index of the active space from before generations (until it is replaced).
    // The exact variant orders by the score, an expression the index cannot serve, so the planner scans.
    const generation = Math.trunc(query.generationId);
    const sql = (exact: boolean) => `SELECT entity_id, 1 - (embedding::vector(${n}) <=> $1::vector(${n})) AS score, metadata
         FROM ai_searchable_entities
        WHERE generation_id = ${generation} AND model = ${quoteLiteral(query.model)} AND dimensions = ${n}
          AND entity_type = $2 ${filterSql}
        ORDER BY ${exact ? 'score DESC' : `embedding::vector(${n}) <=> $1::vector(${n})`}
        LIMIT $3`;
    let rows: SearchRow[];
    if (this.embedded) {
      rows = await this.dataSource.query(sql(true), params);
    } else {
      rows = await this.dataSource.transaction(async (manager) => {
        // Iterative scans keep returning neighbours until LIMIT rows pass the entity-type/metadata filters.
        // One statement sets all three for this transaction only (a pooled connection keeps no state).
        await manager.query(
          `SELECT set_config('hnsw.iterative_scan', 'relaxed_order', true), set_config('hnsw.ef_search', $1, true),
                  set_config('hnsw.max_scan_tuples', $2, true)`,
          [String(this.efSearchFor(query.limit)), String(this.settings.maxScanTuples)],
        );
        return manager.query(sql(false), params);
      });
      const floor = this.settings.exactScanBelowScore;
      const best = Math.max(-Infinity, ...rows.map((r) => Number(r.score)));
      if (rows.length < query.limit || (floor !== null && best < floor)) rows = await this.dataSource.query(sql(true), params);
    }
    // relaxed_order may return neighbours slightly out of order, and the threshold applies to what was found.
    return rows
      .map((r) => ({ entityId: r.entity_id, score: Number(r.score), metadata: r.metadata }))
      .filter((hit) => query.threshold === undefined || hit.score >= query.threshold)
      .sort((x, y) => y.score - x.score);
  }

  /** `hnsw.ef_search` for a search of `limit` rows: the configured floor, twice the limit, at most pgvector's maximum. */
  private efSearchFor(limit: number): number {
    return Math.min(MAX_EF_SEARCH, Math.max(this.settings.efSearch, 2 * limit));
  }

  async count(entityType?: string, generationId?: number): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM ai_searchable_entities s
        WHERE ($1::text IS NULL OR s.entity_type = $1)
          AND CASE WHEN $2::int IS NULL
                   THEN s.generation_id IN (SELECT serving_generation_id FROM ai_index_aliases)
                   ELSE s.generation_id = $2 END`,
      [entityType ?? null, generationId ?? null],
    );
    return row.n;
  }

  async existsByIds(entityType: string, entityIds: string[], manager?: EntityManager, generationId?: number): Promise<Set<string>> {
    return new Set((await this.contentHashes(entityType, entityIds, manager, generationId)).keys());
  }

  async contentHashes(entityType: string, entityIds: string[], manager?: EntityManager, generationId?: number): Promise<Map<string, string>> {
    if (entityIds.length === 0) return new Map();
    const runner = manager ?? this.dataSource.manager;
    const rows: Array<{ entity_id: string; content_hash: string }> = await runner.query(
      `SELECT entity_id, content_hash FROM ai_searchable_entities
        WHERE entity_type = $1 AND entity_id = ANY($2::text[])
          AND generation_id = coalesce($3::int, (SELECT serving_generation_id FROM ai_index_aliases WHERE entity_type = $1))`,
      [entityType, entityIds, generationId ?? null],
    );
    return new Map(rows.map((r) => [r.entity_id, r.content_hash]));
  }

  async storedStates(
    entityType: string,
    entityIds: string[],
    generationIds: number[],
    manager?: EntityManager,
  ): Promise<Map<number, Map<string, StoredVectorState>>> {
    const states = new Map<number, Map<string, StoredVectorState>>(generationIds.map((id) => [id, new Map()]));
    if (entityIds.length === 0 || generationIds.length === 0) return states;
    const runner = manager ?? this.dataSource.manager;
    const rows: Array<{ generation_id: number; entity_id: string; content_hash: string; metadata: Record<string, unknown> }> = await runner.query(
      `SELECT generation_id, entity_id, content_hash, metadata FROM ai_searchable_entities
        WHERE entity_type = $1 AND entity_id = ANY($2::text[]) AND generation_id = ANY($3::int[])`,
      [entityType, entityIds, generationIds],
    );
    for (const r of rows) states.get(r.generation_id)?.set(r.entity_id, { contentHash: r.content_hash, metadata: r.metadata });
    return states;
  }
}

/** Name of a generation's HNSW index. */
export function generationIndexName(generationId: number): string {
  return `ai_searchable_entities_hnsw_g${generationId}`;
}

function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

type SearchRow = { entity_id: string; score: number | string; metadata: Record<string, unknown> };

/** `m` and `ef_construction` of an HNSW index from its definition (`… WITH (m='16', ef_construction='64') WHERE …`). */
function buildParameters(indexdef: string): { m: number; efConstruction: number } {
  // Only the WITH clause, before the predicate: the model name in the predicate could contain anything.
  const withClause = /\sWITH \(([^)]*)\)/.exec(indexdef.split(' WHERE ')[0])?.[1] ?? '';
  const m = /\bm\s*=\s*'?(\d+)/.exec(withClause);
  const ef = /\bef_construction\s*=\s*'?(\d+)/.exec(withClause);
  return {
    m: m ? Number(m[1]) : PGVECTOR_DEFAULT_BUILD.m,
    efConstruction: ef ? Number(ef[1]) : PGVECTOR_DEFAULT_BUILD.efConstruction,
  };
}
