export { PgVectorStore } from './pgvector.store';
export { SearchableEntityRecord, SEARCHABLE_ENTITY_HNSW_INDEX } from './searchable-entity.entity';
export { chunkForParameters, encodeVector, MAX_BIND_PARAMETERS } from './vector-codec';
export type { VectorRecord, VectorSearchHit, VectorSearchQuery, VectorStore } from './vector-store.interface';
