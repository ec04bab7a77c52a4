export { PgVectorStore } from './pgvector.store';
export { SearchableEntityRecord, SEARCHABLE_ENTITY_HNSW_INDEX } from './searchable-entity.entity';
export { encodeVector } from './vector-codec';
export type { PreparedVectorWrite, VectorRecord, VectorSearchHit, VectorSearchQuery, VectorStore } from './vector-store.interface';
