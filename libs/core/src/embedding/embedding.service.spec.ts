import type { OpenAiEmbeddingOptions } from '../config/ai-core-options.interface';
import {
  FAKE_OPENAI_API_KEY,
  fakeEmbedding,
  fakeTokenCount,
  startFakeOpenAiServer,
  type FakeOpenAiServer,
} from '../../../../test/support/fake-openai-server';
import { EmbeddingProviderError, EmbeddingRateLimitError } from './embedding.errors';
import { EmbeddingService, type EmbedOutcome } from './embedding.service';
import { OpenAiEmbeddingProvider } from './openai-embedding.provider';
import { ProviderRateLimiter } from './provider-rate-limiter';
import { estimateTokens } from './token-estimate';

/** The vector of an outcome, failing the test with the outcome's error otherwise. */
function vectorOf(outcome: EmbedOutcome): Float32Array {
  if ('error' in outcome) throw new Error(`Expected a vector but got the error: ${outcome.error}`);
  if ('retry' in outcome) throw new Error(`Expected a vector but got a deferral (${outcome.reason}): ${outcome.retry}`);
  return outcome.vector;
}

function expectVectorFor(outcome: EmbedOutcome, text: string): void {
  expect(Array.from(vectorOf(outcome))).toEqual(Array.from(fakeEmbedding(text, 384)));
}

describe('EmbeddingService (real provider, limiter and fake OpenAI server)', () => {
  let server: FakeOpenAiServer;
  /** A server with a small per-request token cap, so a request over it would be answered 400. */
  let smallRequestServer: FakeOpenAiServer;

  const providerFor = (target: FakeOpenAiServer, overrides: Partial<OpenAiEmbeddingOptions> = {}) =>
    new OpenAiEmbeddingProvider({
      provider: 'openai',
      apiKey: FAKE_OPENAI_API_KEY,
      baseURL: target.url,
      model: 'text-embedding-3-small',
      dimensions: 384,
      ...overrides,
    });

  const serviceFor = (
    overrides: Partial<OpenAiEmbeddingOptions> = {},
    limiter = new ProviderRateLimiter({}),
    overlongInput: 'truncate' | 'fail' = 'truncate',
  ) => new EmbeddingService(providerFor(server, overrides), limiter, { overlongInput });

  beforeAll(async () => {
    server = await startFakeOpenAiServer();
    smallRequestServer = await startFakeOpenAiServer({ maxTokensPerRequest: 1000 });
  });

  afterAll(async () => {
    await Promise.all([server.close(), smallRequestServer.close()]);
  });

  beforeEach(() => {
    server.reset();
    smallRequestServer.reset();
  });

  it('exposes its provider', () => {
    const provider = providerFor(server);
    expect(new EmbeddingService(provider, new ProviderRateLimiter({}), { overlongInput: 'fail' }).provider).toBe(provider);
  });

  describe('splitting', () => {
    it('splits at 2048 inputs per request and returns vectors in input order', async () => {
      const texts = Array.from({ length: 5000 }, (_, i) => `product ${i}`);
      const outcomes = await serviceFor().embedTexts(texts);

      expect(server.embeddingRequests.map((r) => r.inputs!.length)).toEqual([2048, 2048, 904]);
      expect(server.embeddingRequests.flatMap((r) => r.inputs)).toEqual(texts);
      expect(outcomes).toHaveLength(5000);
      for (const i of [0, 2047, 2048, 4095, 4096, 4999]) expectVectorFor(outcomes[i], texts[i]);
    });

    it('splits at the per-request token cap into as few requests as fit', async () => {
      const texts = Array.from({ length: 10 }, (_, i) => `${i}`.padEnd(900, '.')); // 300 tokens each by the estimate
      const service = new EmbeddingService(
        providerFor(smallRequestServer, { maxTokensPerRequest: 1000, tokenizer: 'estimate' }),
        new ProviderRateLimiter({}),
        { overlongInput: 'fail' },
      );
      const outcomes = await service.embedTexts(texts);

      const requests = smallRequestServer.embeddingRequests;
      expect(requests.map((r) => r.inputs!.length)).toEqual([3, 3, 3, 1]);
      for (const request of requests) {
        expect(request.status).toBe(200);
        expect(request.inputs!.reduce((sum, text) => sum + fakeTokenCount(text), 0)).toBeLessThanOrEqual(1000);
      }
      outcomes.forEach((outcome, i) => expectVectorFor(outcome, texts[i]));
    });
  });

  describe('per-input problems', () => {
    it('truncates an over-long input to the per-input limit without splitting characters', async () => {
      const long = 'a'.repeat(1000);
      const emoji = '🎉'.repeat(200); // 800 bytes, 267 tokens
      const outcomes = await serviceFor({ maxTokensPerInput: 100, tokenizer: 'estimate' }).embedTexts(['short', long, emoji]);

      const sent = server.embeddingRequests[0].inputs!;
      expect(sent).toEqual(['short', 'a'.repeat(300), '🎉'.repeat(75)]);
      expectVectorFor(outcomes[0], 'short');
      expectVectorFor(outcomes[1], 'a'.repeat(300));
      expectVectorFor(outcomes[2], '🎉'.repeat(75));
    });

    it('with overlongInput "fail", reports the token count and limit and never sends the input', async () => {
      const long = 'b'.repeat(1000); // 334 tokens
      const outcomes = await serviceFor({ maxTokensPerInput: 100, tokenizer: 'estimate' }, undefined, 'fail').embedTexts(['one', long, 'two']);

      expect(outcomes[1]).toEqual({ error: expect.stringContaining('334 tokens') });
      expect((outcomes[1] as { error: string }).error).toContain('100-token limit');
      expect((outcomes[1] as { error: string }).error).toContain('text-embedding-3-small');
      expectVectorFor(outcomes[0], 'one');
      expectVectorFor(outcomes[2], 'two');
      expect(server.embeddingRequests.flatMap((r) => r.inputs)).toEqual(['one', 'two']);
    });

    it('uses the provider token counter when it has one, cutting until the exact count fits', async () => {
      /** A provider with a stricter (exact) tokenizer than the estimate: one token per character. */
      class CharTokenProvider extends OpenAiEmbeddingProvider {
        override readonly countTokens = (text: string): number => text.length;
      }
      const provider = new CharTokenProvider({
        provider: 'openai',
        apiKey: FAKE_OPENAI_API_KEY,
        baseURL: server.url,
        model: 'text-embedding-3-small',
        dimensions: 384,
        maxTokensPerInput: 100,
      });
      const text = 'c'.repeat(150);
      const outcomes = await new EmbeddingService(provider, new ProviderRateLimiter({}), {
        overlongInput: 'truncate',
      }).embedTexts([text]);

      const [sent] = server.embeddingRequests[0].inputs!;
      expect(sent.length).toBeGreaterThan(0);
      expect(sent.length).toBeLessThanOrEqual(100);
      expect(text.startsWith(sent)).toBe(true);
      expectVectorFor(outcomes[0], sent);
    });

    it('reports empty and whitespace-only inputs as errors and sends only the rest', async () => {
      const outcomes = await serviceFor().embedTexts(['', 'real text', '  \n\t ']);

      expect(outcomes[0]).toEqual({ error: expect.stringContaining('nothing to embed') });
      expect(outcomes[2]).toEqual({ error: expect.stringContaining('nothing to embed') });
      expectVectorFor(outcomes[1], 'real text');
      expect(server.embeddingRequests.flatMap((r) => r.inputs)).toEqual(['real text']);
    });

    it('makes no request when nothing is embeddable', async () => {
      const outcomes = await serviceFor().embedTexts([' ', '']);
      expect(outcomes.every((o) => 'error' in o)).toBe(true);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('metering', () => {
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const texts = [
      'Red running shoes, size 42 — lightweight mesh',
      'Café crème brûlée recipe: 3 eggs, 200 ml cream',
      '数据迁移 and 🎉 emoji',
      'a literal <|endoftext|> in user text',
      'SKU-00042 | price 19.99 EUR | stock: 1,204',
    ];

    it('counts tokens as the server does with the cl100k_base tokenizer of OpenAI embedding models', () => {
      const service = serviceFor();
      for (const text of texts) expect(service.countTokens(text)).toBe(fakeTokenCount(text));
      // The byte estimate, kept for other models, is deliberately high.
      const estimating = serviceFor({ model: 'nomic-embed-text', tokenizer: undefined });
      expect(sum(texts.map((t) => estimating.countTokens(t)))).toBeGreaterThan(sum(texts.map(fakeTokenCount)));
    });

    it("shares each request's reported tokens among its inputs: the shares add up to the provider's usage", async () => {
      const { outcomes, usage } = await serviceFor({ maxInputsPerRequest: 2 }).embedTextsWithUsage(texts);

      outcomes.forEach((o, i) => expectVectorFor(o, texts[i]));
      const billed = sum(server.embeddingRequests.map((r) => sum(r.inputs!.map(fakeTokenCount))));
      expect(server.embeddingRequests).toHaveLength(3);
      expect(sum(usage.map((u) => u.tokens))).toBeCloseTo(billed, 6);
      expect(sum(usage.map((u) => u.requests))).toBeCloseTo(3, 9);
      expect(sum(usage.map((u) => u.estimatedTokens))).toBe(0);
      // The lone input of the last request carries that whole request.
      expect(usage[4]).toEqual({ requests: 1, failedRequests: 0, tokens: fakeTokenCount(texts[4]), estimatedTokens: 0 });
    });

    it('counts failed attempts as requests but bills only what the provider answered', async () => {
      server.failNext(1, { status: 500 });
      const { outcomes, usage } = await serviceFor().embedTextsWithUsage(texts.slice(0, 2));

      outcomes.forEach((o, i) => expectVectorFor(o, texts[i]));
      expect(sum(usage.map((u) => u.requests))).toBeCloseTo(2, 9);
      expect(sum(usage.map((u) => u.failedRequests))).toBeCloseTo(1, 9);
      expect(sum(usage.map((u) => u.tokens))).toBeCloseTo(fakeTokenCount(texts[0]) + fakeTokenCount(texts[1]), 6);
    });

    it('sends nothing for inputs the admission check refuses; they get its deferral and no usage', async () => {
      const seen: number[][] = [];
      const { outcomes, usage } = await serviceFor().embedTextsWithUsage(['', texts[0], texts[1]], undefined, {
        admit: async (tokens) => {
          seen.push(tokens);
          return new Map([[2, { retry: 'over budget', reason: 'budget', consumesAttempt: false, retryAfterMs: 0, cause: new Error('over budget') }]]);
        },
      });

      // The empty input is never sent, so it is offered with 0 tokens.
      expect(seen).toEqual([[0, fakeTokenCount(texts[0]), fakeTokenCount(texts[1])]]);
      expect(server.embeddingRequests.map((r) => r.inputs)).toEqual([[texts[0]]]);
      expect(outcomes[2]).toMatchObject({ reason: 'budget', retry: 'over budget' });
      expect(usage[2]).toEqual({ requests: 0, failedRequests: 0, tokens: 0, estimatedTokens: 0 });
      expectVectorFor(outcomes[1], texts[0]);
    });
  });

  describe('rate limiting', () => {
    it('never exceeds the provider rpm when the limiter is set to the same rpm (zero 429s)', async () => {
      server.enforce({ rpm: 600 });
      const limiter = new ProviderRateLimiter({ requestsPerMinute: 600 });
      const service = serviceFor({ maxInputsPerRequest: 1 }, limiter);
      // 620 one-input requests from two concurrent callers: the limiter's 590-request burst, then 10 per second.
      const batches = [0, 1].map((caller) => Array.from({ length: 310 }, (_, i) => `caller ${caller} item ${i}`));
      const start = Date.now();
      const results = await Promise.all(batches.map((texts) => service.embedTexts(texts)));

      expect(server.embeddingRequests).toHaveLength(620);
      expect(server.embeddingRequests.filter((r) => r.status === 429)).toHaveLength(0);
      results.forEach((outcomes, caller) => outcomes.forEach((o, i) => expectVectorFor(o, batches[caller][i])));
      // 30 requests beyond the burst at 10 per second: the limiter really waited.
      expect(Date.now() - start).toBeGreaterThanOrEqual(2500);
    });

    it('never exceeds the provider tpm when the limiter is set to the same tpm (zero 429s)', async () => {
      server.enforce({ tpm: 60_000 });
      const limiter = new ProviderRateLimiter({ tokensPerMinute: 60_000 });
      const service = serviceFor({ maxInputsPerRequest: 2 }, limiter);
      // 300-token texts, 600 tokens per request: a 98-request burst, then 1,000 tokens per second.
      const batches = [0, 1].map((caller) =>
        Array.from({ length: 104 }, (_, i) => `caller ${caller} item ${i} `.padEnd(900, 'x')),
      );
      expect(estimateTokens(batches[0][0])).toBe(300);
      const results = await Promise.all(batches.map((texts) => service.embedTexts(texts)));

      expect(server.embeddingRequests).toHaveLength(104);
      expect(server.embeddingRequests.filter((r) => r.status === 429)).toHaveLength(0);
      results.forEach((outcomes, caller) => outcomes.forEach((o, i) => expectVectorFor(o, batches[caller][i])));
    });

    it('a limiter set above the provider rpm gets a 429; with no retry budget the rest is deferred, the answers kept', async () => {
      server.enforce({ rpm: 60 });
      const service = serviceFor({ maxInputsPerRequest: 1 }, new ProviderRateLimiter({ requestsPerMinute: 1200 }));
      const texts = Array.from({ length: 100 }, (_, i) => `item ${i}`);

      const outcomes = await service.embedTexts(texts, undefined, { retryBudgetMs: 0 });
      // The call stops at the first 429: what was answered is kept, the rest is deferred for the caller.
      expect(server.embeddingRequests.filter((r) => r.status === 429)).toHaveLength(1);
      const answered = server.embeddingRequests.filter((r) => r.status === 200).length;
      expect(answered).toBeGreaterThanOrEqual(60);
      expect(answered).toBeLessThan(100);
      outcomes.slice(0, answered).forEach((o, i) => expectVectorFor(o, texts[i]));
      for (const o of outcomes.slice(answered)) expect(o).toMatchObject({ reason: 'rate-limit', consumesAttempt: false });
    });

    it('on an injected 429, waits retry-after-ms and sends the request again in the same call', async () => {
      const limiter = new ProviderRateLimiter({});
      const service = serviceFor({}, limiter);
      server.failNext(1, { status: 429, headers: { 'retry-after-ms': '400' } });

      const outcomes = await service.embedTexts(['x']);
      expectVectorFor(outcomes[0], 'x');
      const [failed, retried] = server.embeddingRequests;
      expect(failed.status).toBe(429);
      expect(retried.time - failed.time).toBeGreaterThanOrEqual(390);
    });

    it('retries a transient 500 in-process and keeps the vectors of the requests already answered', async () => {
      const service = new EmbeddingService(providerFor(server, { maxInputsPerRequest: 2 }), new ProviderRateLimiter({}), {
        overlongInput: 'fail',
        retry: { backoffBaseMs: 10 },
      });
      const texts = ['a', 'b', 'c', 'd', 'e', 'f'];
      // The first request is answered; the second fails twice before it is answered.
      const first = service.embedTexts(texts);
      await new Promise((r) => setImmediate(r));
      server.failNext(2, { status: 500 });
      const outcomes = await first;
      outcomes.forEach((o, i) => expectVectorFor(o, texts[i]));
      const sent = server.embeddingRequests.flatMap((r) => (r.status === 200 ? r.inputs ?? [] : []));
      // Every input was embedded exactly once: nothing answered was thrown away and sent again.
      expect([...sent].sort()).toEqual(texts);
      expect(server.embeddingRequests.filter((r) => r.status === 500)).toHaveLength(2);
    });

    it('gives a hung request up after the adaptive timeout (a few times the slowest recent answer), not the cap', async () => {
      const service = new EmbeddingService(providerFor(server, { timeoutMs: 60_000 }), new ProviderRateLimiter({}), {
        overlongInput: 'fail',
        requestTimeoutMs: 60_000,
        retry: { backoffBaseMs: 10 },
      });
      expect(service.requestTimeoutMs).toBe(60_000);
      expectVectorFor((await service.embedTexts(['warm']))[0], 'warm');
      // Answers took milliseconds, so the next request gets the 5 s floor instead of the 60 s cap.
      expect(service.requestTimeoutMs).toBe(5_000);
      server.failNext(1, { status: 504, hang: true });
      const started = Date.now();
      const outcomes = await service.embedTexts(['after hang']);
      expectVectorFor(outcomes[0], 'after hang');
      expect(Date.now() - started).toBeGreaterThanOrEqual(4_900);
      expect(Date.now() - started).toBeLessThan(15_000);
    }, 30_000);

    it('defers the inputs as unavailable when the provider has failed everything for outagePauseMs, and tries at once after clearBackOff', async () => {
      const service = new EmbeddingService(providerFor(server), new ProviderRateLimiter({}), {
        overlongInput: 'fail',
        retry: { backoffBaseMs: 20, backoffMaxMs: 50, outagePauseMs: 300 },
      });
      server.failNext(1000, { status: 503 });
      const started = Date.now();
      const outcomes = await service.embedTexts(['a', 'b']);
      expect(Date.now() - started).toBeGreaterThanOrEqual(290);
      for (const o of outcomes) expect(o).toMatchObject({ reason: 'unavailable', consumesAttempt: false });
      expect((outcomes[0] as { cause: Error }).cause.name).toBe('EmbeddingProviderUnavailableError');
      // While the outage lasts, a call probes once and defers at once instead of waiting out the budget again.
      const probes = server.embeddingRequests.length;
      expect((await service.embedTexts(['c']))[0]).toMatchObject({ reason: 'unavailable' });
      expect(server.embeddingRequests.length).toBe(probes + 1);
      server.reset();
      service.clearBackOff();
      expectVectorFor((await service.embedTexts(['d']))[0], 'd');
    });

    it('isolates an input the provider rejects (400): only that input fails, the rest of the batch is embedded', async () => {
      // The server's own per-input limit (20 tokens) is lower than what the client was told (8191), as when a
      // token estimate undercounts: the client sends, the server answers 400 for the whole request.
      const strict = await startFakeOpenAiServer({ maxTokensPerInput: 20 });
      try {
        const service = new EmbeddingService(providerFor(strict), new ProviderRateLimiter({}), { overlongInput: 'fail' });
        const texts = ['red shoes', 'blue hat', 'word '.repeat(60).trim(), 'green scarf', 'white socks'];
        const outcomes = await service.embedTexts(texts);
        expect('error' in outcomes[2] && outcomes[2].error).toMatch(/rejected this input: .*HTTP 400/);
        for (const i of [0, 1, 3, 4]) expect(Array.from(vectorOf(outcomes[i]))).toEqual(Array.from(fakeEmbedding(texts[i], 384)));
        // 1 full request, then about √n groups, then the failing group's inputs: a handful, not one per input.
        expect(strict.embeddingRequests.length).toBeLessThanOrEqual(7);
        expect(strict.embeddingRequests.filter((r) => r.status === 400).length).toBeGreaterThanOrEqual(2);
      } finally {
        await strict.close();
      }
    });

    it('does not split on rejections that are not about the input (401): the call defers everything, using an attempt', async () => {
      server.failNext(1, { status: 401 });
      const outcomes = await serviceFor().embedTexts(['a', 'b', 'c']);
      for (const o of outcomes) expect(o).toMatchObject({ reason: 'failed', consumesAttempt: true, cause: { retryable: false, status: 401 } });
      expect(server.embeddingRequests).toHaveLength(1);
    });

    it('stops waiting for the limiter when the signal aborts, without sending anything', async () => {
      const limiter = new ProviderRateLimiter({});
      limiter.backOff(60_000);
      const controller = new AbortController();
      const start = Date.now();
      const pending = serviceFor({}, limiter).embedTexts(['x'], controller.signal);
      setTimeout(() => controller.abort(), 20);

      await expect(pending).rejects.toMatchObject({ name: 'AbortError' });
      expect(Date.now() - start).toBeLessThan(1000);
      expect(server.requests).toHaveLength(0);
    });
  });

  describe('graceful stop (stopping)', () => {
    it('uses the answer of a request already sent, and sends none of the call\'s other requests', async () => {
      server.delayMs = 300;
      const stopping = new AbortController();
      const texts = Array.from({ length: 3000 }, (_, i) => `item ${i}`);
      const pending = serviceFor().embedTextsWithUsage(texts, undefined, { stopping: stopping.signal });
      setTimeout(() => stopping.abort(), 100);
      const { outcomes, usage } = await pending;

      expect(server.embeddingRequests.map((r) => r.inputs!.length)).toEqual([2048]);
      for (const i of [0, 2047]) expectVectorFor(outcomes[i], texts[i]);
      expect(usage[0].tokens).toBeGreaterThan(0);
      for (const i of [2048, 2999]) expect(outcomes[i]).toMatchObject({ reason: 'shutdown', consumesAttempt: false, retryAfterMs: 0 });
      expect(usage[2048]).toMatchObject({ requests: 0, tokens: 0 });
    });

    it('ends a retry back-off at once and defers the request without an attempt', async () => {
      server.failNext(1, { status: 500 });
      const stopping = new AbortController();
      const service = new EmbeddingService(providerFor(server), new ProviderRateLimiter({}), {
        overlongInput: 'fail',
        retry: { backoffBaseMs: 60_000, backoffMaxMs: 60_000 },
      });
      const start = Date.now();
      const pending = service.embedTexts(['a', 'b'], undefined, { stopping: stopping.signal });
      setTimeout(() => stopping.abort(), 200);
      const outcomes = await pending;

      expect(Date.now() - start).toBeLessThan(5_000);
      expect(server.embeddingRequests.map((r) => r.status)).toEqual([500]);
      for (const o of outcomes) expect(o).toMatchObject({ reason: 'shutdown', consumesAttempt: false });
    });

    it('ends a rate-limit wait at once without sending, where the hard signal would reject', async () => {
      const limiter = new ProviderRateLimiter({});
      limiter.backOff(60_000);
      const stopping = new AbortController();
      const pending = serviceFor({}, limiter).embedTexts(['x'], new AbortController().signal, { stopping: stopping.signal });
      setTimeout(() => stopping.abort(), 20);

      expect(await pending).toEqual([expect.objectContaining({ reason: 'shutdown', consumesAttempt: false })]);
      expect(server.requests).toHaveLength(0);
    });

    it('still aborts a request in flight when the hard signal aborts after the stop', async () => {
      server.delayMs = 5_000;
      const stopping = new AbortController();
      const hard = new AbortController();
      const pending = serviceFor().embedTexts(['x'], hard.signal, { stopping: stopping.signal });
      setTimeout(() => stopping.abort(), 50);
      setTimeout(() => hard.abort(new Error('grace over')), 150);

      await expect(pending).rejects.toThrow('grace over');
    });
  });

  describe('calibration of the byte estimate', () => {
    const catalogue = Array.from({ length: 400 }, (_, i) => `Trail running shoe model ${i}: breathable mesh, 8 mm drop, size ${36 + (i % 12)}. Category: Footwear.`);
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

    it('learns reported over estimated tokens from the answers, and estimates texts not sent yet to within 5 %', async () => {
      const service = serviceFor({ tokenizer: 'estimate' });
      expect(service.tokenCounting).toBe('estimate');
      const estimated = sum(catalogue.map((t) => service.countTokens(t)));
      const actual = sum(catalogue.map(fakeTokenCount));
      // The byte estimate alone counts high.
      expect(estimated / actual).toBeGreaterThan(1.1);
      expect(service.tokenRatio).toBeUndefined();

      await service.embedTexts(catalogue.slice(0, 200));
      expect(service.tokenRatio).toBeDefined();
      // Texts not sent yet are estimated with the learned ratio.
      const rest = catalogue.slice(200);
      const corrected = service.calibratedTokens(sum(rest.map((t) => service.countTokens(t))));
      expect(Math.abs(corrected / sum(rest.map(fakeTokenCount)) - 1)).toBeLessThan(0.05);
    });

    it('stays at 1 with an exact tokenizer', async () => {
      const service = serviceFor();
      expect(service.tokenCounting).toBe('tokenizer');
      await service.embedTexts(catalogue);
      expect(service.tokenRatio).toBe(1);
    });
  });
});
