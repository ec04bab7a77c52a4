export { AICapable, getAICapableOptions, type AICapableOptions } from './ai-capable.decorator';
export type { AiEntityConfig, EmbeddableField } from './ai-entity-config.interface';
export { loadAiEntityConfig, parseAiEntityConfig } from './ai-entity-config.loader';
export { AiEntityRegistry, type AiEntityDescriptor } from './ai-entity-registry.service';
export { AiEntityConfigError } from './entity-config.errors';
export { loadEntitySnapshots, type EntitySnapshot } from './entity-snapshot.loader';
export { buildEntityText, computeContentHash, extractMetadata, sameMetadata } from './entity-text.builder';
