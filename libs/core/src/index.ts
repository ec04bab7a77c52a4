/**
 * @ai-infrastructure/core — entity decorators and configuration, embedding providers, the pgvector store,
 * the indexing queue and workers, live indexing and semantic search.
 */
export { AiCoreModule } from './ai-core.module';
export { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE, EMBEDDING_PROVIDER, VECTOR_STORE } from './ai-core.constants';
export * from './common';
export * from './config';
export * from './database';
export * from './embedding';
export * from './entity';
export * from './queue';
export * from './search';
export * from './vector-store';
export * from './worker';
