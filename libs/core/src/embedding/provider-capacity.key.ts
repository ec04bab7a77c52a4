import { createHash } from 'node:crypto';
import type { EmbeddingOptions } from '../config/ai-core-options.interface';
import type { EmbeddingProvider } from './embedding-provider.interface';
import type { ProviderCapacityKey } from './provider-capacity.store';

/** Hex characters of the SHA-256 kept as the account fingerprint (128 bits: no two keys share a bucket by chance). */
const FINGERPRINT_LENGTH = 32;

/**
 * The shared bucket a provider's requests count against: its name and model, and for the OpenAI provider a
 * fingerprint of the endpoint and API key, because limits belong to the key (two keys, or the same key
 * at two endpoints, get two buckets). The key itself is never stored: only a truncated SHA-256 of it.
 *
 * @example
 * ```ts
 * providerCapacityKey(provider, { provider: 'openai', apiKey, model: 'text-embedding-3-small', dimensions: 1536 });
 * // { provider: 'openai', model: 'text-embedding-3-small', account: '5f0c…' }
 * ```
 */
export function providerCapacityKey(provider: Pick<EmbeddingProvider, 'name' | 'model'>, embedding: EmbeddingOptions): ProviderCapacityKey {
  return {
    provider: provider.name.slice(0, 50),
    model: provider.model.slice(0, 200),
    account: embedding.provider === 'openai' ? accountFingerprint(embedding.baseURL, embedding.apiKey) : '',
  };
}

/** A truncated SHA-256 of the endpoint (without a trailing slash; '' for the SDK's default) and the API key. */
export function accountFingerprint(baseURL: string | undefined, apiKey: string): string {
  const endpoint = (baseURL ?? '').trim().replace(/\/+$/, '');
  return createHash('sha256').update(`${endpoint}\n${apiKey}`, 'utf8').digest('hex').slice(0, FINGERPRINT_LENGTH);
}
