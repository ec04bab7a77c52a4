import type { EntityManager } from 'typeorm';

/** An entity's whole index state, written in one statement. */
export interface VectorRecord {
  /** The index generation the vector belongs to. */
  generationId: number;
  entityType: string;
  entityId: string;
  /** The vector, or its pgvector binary encoding (see `encodeVector`). */
  vector: Float32Array | number[] | Buffer;
  contentHash: string;
  model: string;
  dimensions: number;
  metadata: Record<string, unknown>;
}

/** A vector write built by {@link VectorStore.prepareUpsert}, ready to run (once) in any transaction. */
export interface PreparedVectorWrite {
  /** Runs the write, in `manager`'s transaction when given. */
  run(manager?: EntityManager): Promise<void>;
}

/** A nearest-neighbour query in one embedding space (model + dimensions). */
export interface VectorSearchQuery {
  /** The generation searched (its rows only). */
  generationId: number;
  entityType: string;
  vector: Float32Array | number[];
  model: string;
  dimensions: number;
  /** Most hits to return. */
  limit: number;
  /** Lowest cosine similarity (-1..1) a hit may have. */
  threshold?: number;
  /** Metadata equality filter: every key must match (JSON containment). */
  filter?: Record<string, unknown>;
}

/** One search hit: cosine similarity in `score` (1 = same direction). */
export interface VectorSearchHit {
  entityId: string;
  score: number;
  metadata: Record<string, unknown>;
}

/**
 * What the indexing pipeline needs of the vector table (`PgVectorStore`). Every method that writes accepts
 * an EntityManager so the write joins the caller's transaction (the worker writes vectors and completes
 * queue items atomically).
 *
 * Not a plug-in point: the workers join the write to the queue's transaction and read stored hashes by a
 * SQL join, so the store is pgvector in the application's database. The interface and its token are
 * internal (`@ai-infrastructure/core/internal`); see docs/adr/0004-vector-store-not-a-plug-in-point.md.
 */
export interface VectorStore {
  /** Inserts or replaces records (one row per entity type, id and generation). */
  upsert(records: VectorRecord[], manager?: EntityManager): Promise<void>;
  /**
   * Builds the statements of {@link upsert} without running them, so a caller can do that work before
   * opening the transaction the write joins.
   */
  prepareUpsert(records: VectorRecord[]): PreparedVectorWrite;
  /** Replaces the metadata of stored vectors of one generation; returns how many rows changed. */
  updateMetadata(
    entityType: string,
    generationId: number,
    items: Array<{ entityId: string; metadata: Record<string, unknown> }>,
    manager?: EntityManager,
  ): Promise<number>;
  /**
   * In one statement: when the entity has a vector in every maintained generation of its type and each
   * one's content hash equals the expected one, refreshes the metadata where it differs and returns true;
   * otherwise (a generation without a vector, another hash, a generation the caller did not know) changes
   * nothing and returns false.
   */
  refreshIfCurrent(
    entityType: string,
    entityId: string,
    expected: Array<{ generationId: number; contentHash: string }>,
    metadata: Record<string, unknown>,
    manager?: EntityManager,
  ): Promise<boolean>;
  /** Removes the vectors of these entities, of one generation or (without `generationId`) of all; returns how many existed. */
  delete(entityType: string, entityIds: string[], manager?: EntityManager, generationId?: number): Promise<number>;
  /** Nearest neighbours by cosine similarity, best first. */
  search(query: VectorSearchQuery): Promise<VectorSearchHit[]>;
  /** Number of stored vectors: of one generation, or of the serving generations (of one entity type when given). */
  count(entityType?: string, generationId?: number): Promise<number>;
  /** The subset of `entityIds` that have a vector in the generation (default: the serving one). */
  existsByIds(entityType: string, entityIds: string[], manager?: EntityManager, generationId?: number): Promise<Set<string>>;
  /** Stored content hashes of these entities in the generation (default: the serving one); entities without a vector are absent. */
  contentHashes(entityType: string, entityIds: string[], manager?: EntityManager, generationId?: number): Promise<Map<string, string>>;
  /** Stored hash and metadata of these entities in each of the generations, by generation id then entity id. */
  storedStates(
    entityType: string,
    entityIds: string[],
    generationIds: number[],
    manager?: EntityManager,
  ): Promise<Map<number, Map<string, StoredVectorState>>>;
}

/** What is stored with an entity's vector in one generation. */
export interface StoredVectorState {
  contentHash: string;
  metadata: Record<string, unknown>;
}
