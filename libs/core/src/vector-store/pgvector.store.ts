import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import { affectedCount } from '../common/query-result';
import { resolveAiCoreOptions, type ResolvedAiCoreOptions, type ResolvedSearchOptions } from '../config/ai-core-options.resolver';
import { SEARCHABLE_ENTITY_HNSW_INDEX } from './searchable-entity.entity';
import { chunkForParameters, encodeVector } from './vector-codec';
import type { PreparedVectorWrite, VectorRecord, VectorSearchHit, VectorSearchQuery, VectorStore } from './vector-store.interface';

const PARAMS_PER_ROW = 7;
const ROWS_PER_STATEMENT = 2_000;
/** pgvector's largest `hnsw.ef_search`. */
const MAX_EF_SEARCH = 1000;
/** pgvector's build parameters when an index names none (an index created before they were configurable). */
const PGVECTOR_DEFAULT_BUILD = { m: 16, efConstruction: 64 };

/**
 * {@link VectorStore} on pgvector in the application's database (`ai_searchable_entities`).
 *
 * On PostgreSQL an HNSW (cosine) index over the active embedding space is ensured at startup; on PGlite the
 * search is exact (an HNSW build in WASM is about 6x slower than the scans it would save at embedded sizes).
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

  /**
   * Ensures the HNSW index for the active space. The index is a partial expression index
   * (`embedding::vector(N)` where model and dimensions match), so rows of another model never break it.
   * A model change, or build parameters (`search.hnsw`) other than the existing index's, rebuild it.
   */
  async prepare(model: string, dimensions: number): Promise<void> {
    const [{ version }] = await this.dataSource.query(`SELECT version() AS version`);
    this.embedded = /PGlite/i.test(version);
    if (this.embedded) return;
    const predicate = `model = ${quoteLiteral(model)} AND dimensions = ${dimensions}`;
    const { m, efConstruction } = this.settings.hnsw;
    const [existing] = await this.dataSource.query(
      `SELECT indexdef FROM pg_indexes WHERE indexname = $1`,
      [SEARCHABLE_ENTITY_HNSW_INDEX],
    );
    if (existing) {
      const indexdef: string = existing.indexdef;
      const sameSpace = indexdef.includes(`vector(${dimensions})`) && indexdef.includes(quoteLiteral(model));
      const built = buildParameters(indexdef);
      if (sameSpace && built.m === m && built.efConstruction === efConstruction) return;
      this.logger.warn(
        sameSpace
          ? `HNSW build parameters changed from m=${built.m}, ef_construction=${built.efConstruction} to m=${m}, ` +
              `ef_construction=${efConstruction}; rebuilding ${SEARCHABLE_ENTITY_HNSW_INDEX}.`
          : `Embedding space changed to ${model}/${dimensions}; rebuilding ${SEARCHABLE_ENTITY_HNSW_INDEX}.`,
      );
      await this.dataSource.query(`DROP INDEX IF EXISTS ${SEARCHABLE_ENTITY_HNSW_INDEX}`);
    }
    await this.dataSource.query(
      `CREATE INDEX IF NOT EXISTS ${SEARCHABLE_ENTITY_HNSW_INDEX} ON ai_searchable_entities
         USING hnsw ((embedding::vector(${dimensions})) vector_cosine_ops)
         WITH (m = ${m}, ef_construction = ${efConstruction}) WHERE ${predicate}`,
    );
  }

  async upsert(records: VectorRecord[], manager?: EntityManager): Promise<void> {
    await this.prepareUpsert(records).run(manager);
  }

  prepareUpsert(records: VectorRecord[]): PreparedVectorWrite {
    const statements = chunkForParameters(records, PARAMS_PER_ROW, ROWS_PER_STATEMENT).map((chunk) => {
      const params: unknown[] = [];
      const values = chunk.map((r) => {
        const b = params.length;
        params.push(r.entityType, r.entityId, encodeVector(r.vector), r.contentHash, r.model, r.dimensions, JSON.stringify(r.metadata));
        return `($${b + 1}, $${b + 2}, $${b + 3}::vector, $${b + 4}, $${b + 5}, $${b + 6}::int, $${b + 7}::jsonb, now())`;
      });
      const sql = `INSERT INTO ai_searchable_entities (entity_type, entity_id, embedding, content_hash, model, dimensions, metadata, indexed_at)
         VALUES ${values.join(', ')}
         ON CONFLICT (entity_type, entity_id) DO UPDATE
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
    items: Array<{ entityId: string; metadata: Record<string, unknown> }>,
    manager?: EntityManager,
  ): Promise<number> {
    if (items.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    const result = await runner.query(
      `UPDATE ai_searchable_entities s SET metadata = u.metadata
         FROM unnest($2::text[], $3::jsonb[]) AS u(entity_id, metadata)
        WHERE s.entity_type = $1 AND s.entity_id = u.entity_id AND s.metadata <> u.metadata`,
      [entityType, items.map((i) => i.entityId), items.map((i) => JSON.stringify(i.metadata))],
    );
    return affectedCount(result);
  }

  async refreshIfCurrent(
    entityType: string,
    entityId: string,
    contentHash: string,
    metadata: Record<string, unknown>,
    manager?: EntityManager,
  ): Promise<boolean> {
    const runner = manager ?? this.dataSource.manager;
    const rows: Array<{ current: boolean }> = await runner.query(
      `WITH stored AS (
         SELECT content_hash = $3 AS current FROM ai_searchable_entities WHERE entity_type = $1 AND entity_id = $2),
       refreshed AS (
         UPDATE ai_searchable_entities SET metadata = $4::jsonb
          WHERE entity_type = $1 AND entity_id = $2 AND content_hash = $3 AND metadata <> $4::jsonb)
       SELECT current FROM stored`,
      [entityType, entityId, contentHash, JSON.stringify(metadata)],
    );
    return rows[0]?.current === true;
  }

  async delete(entityType: string, entityIds: string[], manager?: EntityManager): Promise<number> {
    if (entityIds.length === 0) return 0;
    const runner = manager ?? this.dataSource.manager;
    const result = await runner.query(
      `DELETE FROM ai_searchable_entities WHERE entity_type = $1 AND entity_id = ANY($2::text[])`,
      [entityType, entityIds],
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
    // The model literal (from configuration, quoted) lets the planner match the partial HNSW index. The exact
    // variant orders by the score, an expression the index cannot serve, so the planner scans the rows.
    const sql = (exact: boolean) => `SELECT entity_id, 1 - (embedding::vector(${n}) <=> $1::vector(${n})) AS score, metadata
         FROM ai_searchable_entities
        WHERE model = ${quoteLiteral(query.model)} AND dimensions = ${n} AND entity_type = $2 ${filterSql}
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

  async count(entityType?: string): Promise<number> {
    const [row] = await this.dataSource.query(
      `SELECT count(*)::int AS n FROM ai_searchable_entities WHERE $1::text IS NULL OR entity_type = $1`,
      [entityType ?? null],
    );
    return row.n;
  }

  async existsByIds(entityType: string, entityIds: string[], manager?: EntityManager): Promise<Set<string>> {
    return new Set((await this.contentHashes(entityType, entityIds, manager)).keys());
  }

  async contentHashes(entityType: string, entityIds: string[], manager?: EntityManager): Promise<Map<string, string>> {
    if (entityIds.length === 0) return new Map();
    const runner = manager ?? this.dataSource.manager;
    const rows: Array<{ entity_id: string; content_hash: string }> = await runner.query(
      `SELECT entity_id, content_hash FROM ai_searchable_entities WHERE entity_type = $1 AND entity_id = ANY($2::text[])`,
      [entityType, entityIds],
    );
    return new Map(rows.map((r) => [r.entity_id, r.content_hash]));
  }
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
