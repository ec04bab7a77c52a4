export { AICapable, getAICapableOptions, resolveMigrationRepository, type AICapableOptions } from './ai-capable.decorator';
export type { AiEntityConfig, EmbeddableField } from './ai-entity-config.interface';
export { loadAiEntityConfig, parseAiEntityConfig } from './ai-entity-config.loader';
export { AiEntityRegistry, type AiEntityDescriptor } from './ai-entity-registry.service';
export { AiEntityConfigError } from './entity-config.errors';
export { buildEntityText, computeContentHash, extractMetadata } from './entity-text.builder';
export { describeEntityIdKind, normalizeEntityId, type EntityIdKind } from './entity-id';
export { EntityPageReader, type EntityPageFilters, type EntityPageRow } from './entity-page.reader';
