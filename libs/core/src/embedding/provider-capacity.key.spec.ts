import { accountFingerprint, providerCapacityKey } from './provider-capacity.key';

const API_KEY = 'sk-proj-abcdefghijklmnopqrstuvwxyz0123456789';

describe('providerCapacityKey', () => {
  it('names the provider and model, and fingerprints the key without storing any part of it', () => {
    const key = providerCapacityKey(
      { name: 'openai', model: 'text-embedding-3-small' },
      { provider: 'openai', apiKey: API_KEY, model: 'text-embedding-3-small', dimensions: 1536 },
    );
    expect(key.provider).toBe('openai');
    expect(key.model).toBe('text-embedding-3-small');
    expect(key.account).toMatch(/^[0-9a-f]{32}$/);
    // Not even a piece of the key: every 8-character window of it is absent from the fingerprint.
    for (let i = 0; i + 8 <= API_KEY.length; i++) expect(key.account).not.toContain(API_KEY.slice(i, i + 8));
  });

  it('gives another key or endpoint its own bucket, and ignores a trailing slash of the endpoint', () => {
    const base = accountFingerprint('https://api.openai.com/v1', API_KEY);
    expect(accountFingerprint('https://api.openai.com/v1/', API_KEY)).toBe(base);
    expect(accountFingerprint('https://api.openai.com/v1', `${API_KEY}x`)).not.toBe(base);
    expect(accountFingerprint('https://example.azure.com/openai', API_KEY)).not.toBe(base);
  });

  it('leaves the account empty for providers without an API key', () => {
    expect(providerCapacityKey({ name: 'hashing', model: 'hashing-384' }, { provider: 'hashing' })).toEqual({ provider: 'hashing', model: 'hashing-384', account: '' });
  });
});
