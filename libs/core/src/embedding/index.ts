export * from './embedding-provider.interface';
export * from './embedding.errors';
export { EmbeddingService, type EmbedOutcome } from './embedding.service';
export { HashingEmbeddingProvider } from './hashing-embedding.provider';
export { OpenAiEmbeddingProvider } from './openai-embedding.provider';
export { ProviderRateLimiter } from './provider-rate-limiter';
export { estimateTokens } from './token-estimate';
