export * from './ai-core-options.interface';
export { AiCoreConfigurationError } from './ai-core.errors';
export { resolveAiCoreOptions, type ResolvedAiCoreOptions } from './ai-core-options.resolver';
