export * from './embedding-provider.interface';
export * from './embedding.errors';
export {
  EmbeddingService,
  type EmbedDeferral,
  type EmbedOutcome,
  type EmbedTextsOptions,
  DEFAULT_REQUEST_TIMEOUT_MS,
} from './embedding.service';
export { HashingEmbeddingProvider } from './hashing-embedding.provider';
export { OpenAiEmbeddingProvider } from './openai-embedding.provider';
export { ProviderRateLimiter, type ProviderRequestLane } from './provider-rate-limiter';
export { estimateTokens } from './token-estimate';
export { type OpenAiTokenizer } from './openai-tokenizer';
