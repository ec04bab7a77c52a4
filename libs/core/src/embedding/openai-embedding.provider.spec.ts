import type { OpenAiEmbeddingOptions } from '../config/ai-core-options.interface';
import {
  FAKE_OPENAI_API_KEY,
  INSUFFICIENT_QUOTA_BODY,
  fakeEmbedding,
  startFakeOpenAiServer,
  type FakeOpenAiServer,
} from '../../../../test/support/fake-openai-server';
import { EmbeddingProviderError, EmbeddingQuotaExceededError, EmbeddingRateLimitError } from './embedding.errors';
import { OpenAiEmbeddingProvider, parseDurationMs, parseRateLimitHeaders } from './openai-embedding.provider';
import { ProviderRateLimiter } from './provider-rate-limiter';

/** Awaits `promise` expecting a rejection, and returns the error for closer checks. */
async function failureOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('Expected the promise to reject, but it resolved.');
}

describe('OpenAiEmbeddingProvider (real openai SDK against the fake server)', () => {
  let server: FakeOpenAiServer;

  const provider = (overrides: Partial<OpenAiEmbeddingOptions> = {}) =>
    new OpenAiEmbeddingProvider({
      provider: 'openai',
      apiKey: FAKE_OPENAI_API_KEY,
      baseURL: server.url,
      model: 'text-embedding-3-small',
      dimensions: 384,
      ...overrides,
    });

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
  });

  afterAll(async () => {
    await server.close();
  });

  beforeEach(() => server.reset());

  describe('embed', () => {
    it('returns one Float32Array per input, decoded from base64, with usage and rate-limit hints', async () => {
      const texts = ['red running shoes', 'blue wool hat', 'ünïcødé and emoji 🎉'];
      const result = await provider().embed(texts);

      expect(result.vectors).toHaveLength(3);
      result.vectors.forEach((vector, i) => {
        expect(vector).toBeInstanceOf(Float32Array);
        expect(Array.from(vector)).toEqual(Array.from(fakeEmbedding(texts[i], 384)));
      });
      expect(result.totalTokens).toBeGreaterThan(0);
      expect(result.rateLimit).toMatchObject({
        remainingRequests: expect.any(Number),
        remainingTokens: expect.any(Number),
        resetRequestsMs: expect.any(Number),
        resetTokensMs: expect.any(Number),
      });

      expect(server.embeddingRequests).toHaveLength(1);
      const [request] = server.embeddingRequests;
      expect(request).toMatchObject({ model: 'text-embedding-3-small', inputs: texts, encodingFormat: 'base64' });
      expect(request.dimensions).toBeUndefined();
      expect(request.headers.authorization).toBe(`Bearer ${FAKE_OPENAI_API_KEY}`);
    });

    it('puts vectors in input order by `index`, whatever order the server lists them in', async () => {
      server.reverseData = true;
      const texts = Array.from({ length: 20 }, (_, i) => `document number ${i}`);
      const { vectors } = await provider().embed(texts);
      vectors.forEach((vector, i) => expect(Array.from(vector)).toEqual(Array.from(fakeEmbedding(texts[i], 384))));
    });

    it('sends `dimensions` only when sendDimensions is set', async () => {
      const { vectors } = await provider({ dimensions: 64, sendDimensions: true }).embed(['short vectors']);
      expect(vectors[0]).toHaveLength(64);
      expect(server.embeddingRequests[0].dimensions).toBe(64);
    });

    it('makes no request for an empty batch', async () => {
      expect(await provider().embed([])).toEqual({ vectors: [] });
      expect(server.requests).toHaveLength(0);
    });

    it('refuses vectors of the wrong length with a non-retryable error naming model, expected and actual length', async () => {
      const error = await failureOf(provider({ dimensions: 1536 }).embed(['hello']));
      expect(error).toBeInstanceOf(EmbeddingProviderError);
      expect((error as EmbeddingProviderError).retryable).toBe(false);
      expect(error.message).toContain('text-embedding-3-small');
      expect(error.message).toContain('1536');
      expect(error.message).toContain('384');
    });
  });

  describe('errors (the SDK never retries: exactly one HTTP request per failed call)', () => {
    it('429 with retry-after-ms becomes EmbeddingRateLimitError carrying that delay', async () => {
      server.failNext(1, { status: 429, headers: { 'retry-after-ms': '250', 'retry-after': '7' } });
      const error = await failureOf(provider().embed(['a']));
      expect(error).toBeInstanceOf(EmbeddingRateLimitError);
      expect((error as EmbeddingRateLimitError).retryAfterMs).toBe(250);
      expect(server.embeddingRequests).toHaveLength(1);
    });

    it('retry-after-ms is respected: through the limiter, the next request reaches the server no sooner', async () => {
      const openai = provider();
      const limiter = new ProviderRateLimiter({});
      server.failNext(1, { status: 429, headers: { 'retry-after-ms': '300' } });
      const error = await failureOf(openai.embed(['a']));
      limiter.backOff((error as EmbeddingRateLimitError).retryAfterMs);
      await limiter.acquire(1);
      await openai.embed(['a']);
      const [failed, retried] = server.embeddingRequests;
      expect(failed.status).toBe(429);
      expect(retried.status).toBe(200);
      expect(retried.time - failed.time).toBeGreaterThanOrEqual(290);
    });

    it('429 falls back to retry-after in seconds or as an HTTP date, then to 1000 ms', async () => {
      server.failNext(1, { status: 429, headers: { 'retry-after': '2' } });
      expect(((await failureOf(provider().embed(['a']))) as EmbeddingRateLimitError).retryAfterMs).toBe(2000);

      // HTTP dates have whole-second precision, so allow for the rounding.
      server.failNext(1, { status: 429, headers: { 'retry-after': new Date(Date.now() + 5000).toUTCString() } });
      const byDate = ((await failureOf(provider().embed(['a']))) as EmbeddingRateLimitError).retryAfterMs;
      expect(byDate).toBeGreaterThan(3000);
      expect(byDate).toBeLessThanOrEqual(5000);

      server.failNext(1, { status: 429 });
      expect(((await failureOf(provider().embed(['a']))) as EmbeddingRateLimitError).retryAfterMs).toBe(1000);
      expect(server.embeddingRequests).toHaveLength(3);
    });

    it('429 insufficient_quota becomes EmbeddingQuotaExceededError', async () => {
      server.failNext(1, { status: 429, body: INSUFFICIENT_QUOTA_BODY });
      const error = await failureOf(provider().embed(['a']));
      expect(error).toBeInstanceOf(EmbeddingQuotaExceededError);
      expect(error.message).toContain('exceeded your current quota');
      expect(server.embeddingRequests).toHaveLength(1);
    });

    it('500 is retryable', async () => {
      server.failNext(1, { status: 500 });
      const error = await failureOf(provider().embed(['a']));
      expect(error).toBeInstanceOf(EmbeddingProviderError);
      expect(error).toMatchObject({ retryable: true, status: 500 });
      expect(server.embeddingRequests).toHaveLength(1);
    });

    it('a timeout is retryable', async () => {
      server.delayMs = 1000;
      const error = await failureOf(provider({ timeoutMs: 100 }).embed(['a']));
      expect(error).toBeInstanceOf(EmbeddingProviderError);
      expect((error as EmbeddingProviderError).retryable).toBe(true);
      expect(error.message).toMatch(/did not answer within the request timeout/);
      expect(server.embeddingRequests).toHaveLength(1);
    });

    it('a refused connection is retryable', async () => {
      const gone = await startFakeOpenAiServer();
      const url = gone.url;
      await gone.close();
      const error = await failureOf(provider({ baseURL: url }).embed(['a']));
      expect(error).toBeInstanceOf(EmbeddingProviderError);
      expect((error as EmbeddingProviderError).retryable).toBe(true);
      expect(error.message).toContain(url);
    });

    it('401 is not retryable, and the API key never appears in the error even when the server echoes it', async () => {
      const wrongKey = 'sk-wrong-key-that-must-stay-secret-42';
      const error = await failureOf(provider({ apiKey: wrongKey }).embed(['a']));
      expect(error).toBeInstanceOf(EmbeddingProviderError);
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).toContain('Incorrect API key provided');
      expect(error.message).not.toContain(wrongKey);
      expect(JSON.stringify(error)).not.toContain(wrongKey);
      expect(String(error.stack)).not.toContain(wrongKey);
      // Proves the server did echo it, so the redaction above was needed.
      expect(server.embeddingRequests).toHaveLength(1);
      expect(server.embeddingRequests[0].headers.authorization).toBe(`Bearer ${wrongKey}`);
    });

    it('400 and 404 are not retryable and carry the server message', async () => {
      const badRequest = await failureOf(provider({ maxInputsPerRequest: 4096 }).embed(Array(2049).fill('x')));
      expect(badRequest).toMatchObject({ retryable: false, status: 400 });
      expect(badRequest.message).toContain('maximum 2048 per request');

      const notFound = await failureOf(provider({ model: 'no-such-model' }).embed(['x']));
      expect(notFound).toMatchObject({ retryable: false, status: 404 });
      expect(notFound.message).toContain('The model `no-such-model` does not exist');
      expect(server.embeddingRequests).toHaveLength(2);
    });

    it.each([403, 422])('%i is not retryable', async (status) => {
      server.failNext(1, { status });
      const error = await failureOf(provider().embed(['a']));
      expect(error).toMatchObject({ retryable: false, status });
      expect(server.embeddingRequests).toHaveLength(1);
    });
  });

  describe('checkHealth', () => {
    it('resolves when the server answers the model list', async () => {
      await expect(provider().checkHealth()).resolves.toBeUndefined();
      expect(server.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
    });

    it('rejects with a non-retryable error for a bad key, without the key', async () => {
      const error = await failureOf(provider({ apiKey: 'sk-bad-health-key' }).checkHealth());
      expect(error).toMatchObject({ retryable: false, status: 401 });
      expect(error.message).not.toContain('sk-bad-health-key');
    });
  });

  it('rejects an empty API key at construction', () => {
    expect(() => provider({ apiKey: '' })).toThrow(/apiKey is empty/);
  });
});

describe('parseDurationMs', () => {
  it.each([
    ['1s', 1000],
    ['6m0s', 360_000],
    ['20ms', 20],
    ['1h2m3.5s', 3_723_500],
    ['0.5', 500],
    ['17ms', 17],
    ['2m59.999s', 179_999],
  ])('parses %s as %i ms', (text, ms) => expect(parseDurationMs(text)).toBe(ms));

  it.each(['', 'soon', '5 minutes', '1x', null, undefined])('leaves %p undefined', (text) =>
    expect(parseDurationMs(text)).toBeUndefined(),
  );
});

describe('parseRateLimitHeaders', () => {
  it('reads remaining counts and reset durations', () => {
    const headers = new Headers({
      'x-ratelimit-remaining-requests': '59',
      'x-ratelimit-remaining-tokens': '0',
      'x-ratelimit-reset-requests': '1s',
      'x-ratelimit-reset-tokens': '6m0s',
    });
    expect(parseRateLimitHeaders(headers)).toEqual({
      remainingRequests: 59,
      remainingTokens: 0,
      resetRequestsMs: 1000,
      resetTokensMs: 360_000,
    });
  });

  it('omits what is missing or malformed', () => {
    expect(parseRateLimitHeaders(new Headers({ 'x-ratelimit-remaining-requests': 'many' }))).toEqual({});
  });
});
