/**
 * @ai-infrastructure/migration-core — backfill, re-embed and rebuild jobs over the core indexing queue.
 * The module lands with the migration issue; this entry point reserves the package name and its
 * dependency direction (migration-core → core, never web or HTTP).
 */
export {};
