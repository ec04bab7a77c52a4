export { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS } from './ai-core.schema';
export * from './database.errors';
export { EmbeddedPostgres } from './embedded-postgres';
export { resolveDatabase, type ResolvedDatabase } from './resolve-database';
export { createAiDataSource, type AiDataSourceOptions } from './ai-data-source.factory';
