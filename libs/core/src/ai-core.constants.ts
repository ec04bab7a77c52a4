/** Injection token of the resolved (validated, defaulted) AiCoreModule options. */
export const AI_CORE_RESOLVED_OPTIONS = Symbol('AI_CORE_RESOLVED_OPTIONS');

/** Injection token of the TypeORM DataSource the core library uses. */
export const AI_DATA_SOURCE = Symbol('AI_DATA_SOURCE');

/** Injection token of the active {@link EmbeddingProvider}. */
export const EMBEDDING_PROVIDER = Symbol('EMBEDDING_PROVIDER');

/** Injection token of the {@link VectorStore}. */
export const VECTOR_STORE = Symbol('VECTOR_STORE');
