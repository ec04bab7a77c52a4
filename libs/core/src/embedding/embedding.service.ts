import type { ProviderRetryOptions } from '../config/ai-core-options.interface';
import type { EmbeddingProvider } from './embedding-provider.interface';
import {
  EmbeddingProviderError,
  EmbeddingProviderUnavailableError,
  EmbeddingQuotaExceededError,
  EmbeddingRateLimitError,
} from './embedding.errors';
import type { EmbeddingRequestEvents, EmbeddingRequestOutcome } from './embedding-request.events';
import { emptyUsage, type EmbeddingUsage } from './embedding-usage';
import type { ProviderLimiterSnapshot, ProviderRateLimiter, ProviderRequestLane } from './provider-rate-limiter';
import { TokenCalibration } from './token-calibration';
import { estimateTokens, truncateToTokens } from './token-estimate';

/**
 * An input that was not embedded this time and should be tried again later: the provider was rate
 * limiting, out of quota, down, or failed in a way that may be this input's fault. Vectors of the call's
 * other inputs are kept.
 */
export interface EmbedDeferral {
  /** Why, as a sentence (the provider's message). */
  retry: string;
  /** What kind of trouble stopped it. */
  reason: 'rate-limit' | 'quota' | 'unavailable' | 'transient' | 'failed' | 'budget' | 'shutdown';
  /**
   * Whether this counts as one of the item's attempts: only for failures that may be caused by the input
   * itself (a permanent error of the request, or transient errors that persisted for this input alone
   * while the provider answered other requests).
   */
  consumesAttempt: boolean;
  /** The earliest sensible retry, in ms from now. */
  retryAfterMs: number;
  /** The error behind it. */
  cause: Error;
}

/**
 * One input's result from {@link EmbeddingService.embedTexts}: its vector, why it can never be embedded
 * (`error`: empty, too long, rejected by the provider), or an {@link EmbedDeferral} (`retry`).
 */
export type EmbedOutcome = { vector: Float32Array } | { error: string } | EmbedDeferral;

/** Per-call options of {@link EmbeddingService.embedTexts}. */
export interface EmbedTextsOptions {
  /** The limiter line: `interactive` (default; searches, live indexing) goes ahead of `bulk` (backfills). */
  lane?: ProviderRequestLane;
  /**
   * How long this call may keep retrying transient failures and 429s before it defers the inputs left.
   * Default: as long as the provider answers other requests, up to the outage time.
   */
  retryBudgetMs?: number;
  /**
   * Asked once, before anything is sent, with every input's token count (0 for inputs that will not be
   * sent): inputs it returns a deferral for are not sent and get that deferral (a budget refused them).
   */
  admit?: (tokens: number[]) => Promise<Map<number, EmbedDeferral>>;
  /**
   * The graceful stop: once it aborts, the call sends no further request and stops sitting out rate-limit
   * waits and retry back-offs, but a request already sent is still awaited (until `signal` aborts), so
   * what the provider bills is used. Inputs not sent get a `shutdown` deferral that uses no attempt.
   */
  stopping?: AbortSignal;
}

/** Options of {@link EmbeddingService}. */
export interface EmbeddingServiceOptions {
  /** What to do with an input over the provider's per-input token limit: cut it, or report it as failed. */
  overlongInput: 'truncate' | 'fail';
  /** How long every caller waits after an exhausted quota. Default {@link DEFAULT_QUOTA_BACKOFF_MS}. */
  quotaBackoffMs?: number;
  /** Retries of transient failures. */
  retry?: ProviderRetryOptions;
  /**
   * Longest time one provider request may take, in ms (default {@link DEFAULT_REQUEST_TIMEOUT_MS}). Below
   * it the timeout adapts to the provider: {@link TIMEOUT_LATENCY_FACTOR} times the slowest of the recent
   * answers, at least {@link MIN_REQUEST_TIMEOUT_MS}, so a hung request costs seconds, not the whole cap.
   */
  requestTimeoutMs?: number;
  /** Where each request's outcome and duration are reported (for metrics). */
  events?: EmbeddingRequestEvents;
}

/** What {@link EmbeddingService.embedTextsWithUsage} returns: outcomes and usage, both one per text, in input order. */
export interface EmbedTextsResult {
  outcomes: EmbedOutcome[];
  /** Each input's share of the requests sent for it and the tokens billed (see {@link EmbeddingUsage}). */
  usage: EmbeddingUsage[];
}

/** An input that will be sent, with its position in the caller's array and what sending it cost so far. */
interface PreparedInput {
  index: number;
  text: string;
  tokens: number;
  usage: EmbeddingUsage;
}

/** The state of one call of embedTexts. */
interface CallContext {
  signal?: AbortSignal;
  /** See {@link EmbedTextsOptions.stopping}. */
  stopping?: AbortSignal;
  /** Aborts the waits between requests: `signal` or `stopping`. */
  waits?: AbortSignal;
  lane: ProviderRequestLane;
  deadline: number;
}

/** Default of how long every caller waits after the provider reports an exhausted quota. */
export const DEFAULT_QUOTA_BACKOFF_MS = 60_000;
/**
 * Default cap of one provider request. OpenAI answers a full embeddings request (2048 inputs) in a few
 * seconds; 30 s leaves room for a slow region or a large local model while a hang is given up well before
 * a minute (and the adaptive timeout below the cap usually gives up much sooner).
 */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Least wait after a 429 that names no delay (or a zero one). */
const MIN_RATE_LIMIT_WAIT_MS = 100;
/** The adaptive timeout is never below this (or the cap, when the cap is lower). */
export const MIN_REQUEST_TIMEOUT_MS = 5_000;
/** The adaptive timeout is this many times the slowest recent answer. */
export const TIMEOUT_LATENCY_FACTOR = 4;
/** Recent successful requests whose latency the adaptive timeout looks at. */
const LATENCY_WINDOW = 32;
/**
 * Consecutive transient failures of one request, while the provider answered other requests in between,
 * after which the request is treated as suspect: split into groups (a many-input request) or deferred
 * with an attempt used (a single input), so an input that makes the provider fail cannot hold a worker
 * forever. With 15 % of requests failing at random, 6 in a row happen once in 88,000 requests.
 */
const SUSPECT_AFTER_FAILURES = 6;

/** Inputs counted between two yields to the event loop (see embedTextsWithUsage). */
const PREPARE_SLICE = 200;

/** Attempts to shrink a truncated text whose exact count still exceeds the limit before giving up. */
const MAX_TRUNCATION_ROUNDS = 8;

/**
 * Turns texts into vectors through the configured provider while respecting its limits: per-input token
 * limit (truncate or fail), inputs and tokens per request (splits into as few requests as those allow,
 * keeping input order), and the shared {@link ProviderRateLimiter} (every request waits for capacity in
 * its line and feeds the provider's rate-limit hints back).
 *
 * Failures, per request:
 * - the provider rejects the input (400/413/422): the request is split into about √n groups, and the
 *   group that fails again into single inputs, until the offending input is found; only it gets an
 *   `{ error }` (about √n + 1 wasted inputs, against about 2n for halving);
 * - transient (5xx, timeout, connection reset) or 429: retried in-process with backoff and jitter (the
 *   429's `Retry-After`) for as long as the provider answers other requests; vectors already received
 *   for the call's other requests are kept. When the provider has answered nothing but transient
 *   failures for `outagePauseMs`, the inputs left are deferred as `unavailable`;
 * - an exhausted quota: the limiter holds every caller back for `quotaBackoffMs`, the inputs left are
 *   deferred as `quota` (backfills pause);
 * - any other error (401, 404, a malformed answer): the inputs left are deferred as `failed`, using an
 *   attempt.
 *
 * @example
 * ```ts
 * const service = new EmbeddingService(provider, limiter, { overlongInput: 'truncate' });
 * const outcomes = await service.embedTexts(['red shoes', 'blue hat'], undefined, { lane: 'bulk' });
 * ```
 */
export class EmbeddingService {
  /** When the provider started failing every request (transient errors only); undefined while healthy. */
  private failingSince: number | undefined;
  private clearedBackOffs = 0;
  private lastFailureAt = 0;
  private lastSuccessAt = 0;
  private readonly latencies: number[] = [];

  private readonly calibration = new TokenCalibration();

  constructor(
    private readonly embeddingProvider: EmbeddingProvider,
    private readonly limiter: ProviderRateLimiter,
    private readonly options: EmbeddingServiceOptions,
  ) {}

  /** How long work waits after the provider reports an exhausted quota. */
  get quotaBackoffMs(): number {
    return this.options.quotaBackoffMs ?? DEFAULT_QUOTA_BACKOFF_MS;
  }

  /**
   * Forgets the provider back-off of this instance (an exhausted quota's or an outage's hold, and a 429's
   * `Retry-After`): the next request is sent at once, and backs off again only if the provider still
   * refuses it. Called when an operator resumes work they paused for those reasons.
   */
  clearBackOff(): void {
    this.limiter.clearBackOff();
    this.failingSince = undefined;
    this.clearedBackOffs++;
  }

  /**
   * How many times {@link clearBackOff} has run in this instance. A caller that reports a quota or outage
   * deferral compares it with the value from before its request: if it changed, an operator resumed work
   * meanwhile, and the report is stale (it must not pause again what was just resumed).
   */
  get backOffEpoch(): number {
    return this.clearedBackOffs;
  }

  /** Since when every request to the provider has failed (an outage in progress); undefined while requests succeed. */
  get failingSinceAt(): Date | undefined {
    return this.failingSince === undefined ? undefined : new Date(this.failingSince);
  }

  /** The rate limiter's state (limits, waiting callers, a Retry-After or quota hold). */
  limiterSnapshot(): ProviderLimiterSnapshot {
    return this.limiter.snapshot();
  }

  /** The provider behind this service (its model and dimensions identify the vectors it produces). */
  get provider(): EmbeddingProvider {
    return this.embeddingProvider;
  }

  /** The timeout the next request gets (see {@link EmbeddingServiceOptions.requestTimeoutMs}). */
  get requestTimeoutMs(): number {
    const cap = this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    if (this.latencies.length === 0) return cap;
    const adaptive = Math.max(MIN_REQUEST_TIMEOUT_MS, TIMEOUT_LATENCY_FACTOR * Math.max(...this.latencies));
    return Math.min(cap, adaptive);
  }

  /**
   * Embeds `texts` and returns one outcome per text, in input order. Rejects only with `signal.reason`
   * when aborted; every provider problem becomes the outcome of the inputs it concerns.
   */
  async embedTexts(texts: string[], signal?: AbortSignal, options: EmbedTextsOptions = {}): Promise<EmbedOutcome[]> {
    return (await this.embedTextsWithUsage(texts, signal, options)).outcomes;
  }

  /**
   * {@link embedTexts}, plus what each input cost: its share of the requests sent (failed attempts
   * included) and of the tokens the provider reported, so callers can account usage to the inputs' owners
   * in the transaction that records their results. Usage of a call aborted by `signal` is not returned.
   */
  async embedTextsWithUsage(texts: string[], signal?: AbortSignal, options: EmbedTextsOptions = {}): Promise<EmbedTextsResult> {
    const outcomes = new Array<EmbedOutcome>(texts.length);
    const usage = texts.map(() => emptyUsage());
    const prepared: PreparedInput[] = [];
    for (let index = 0; index < texts.length; index++) {
      // A BPE tokenizer takes about a tenth of a millisecond per text: a 1000-input backfill call yields
      // now and then, so a live write or a search on the same event loop is not held up by the counting.
      if (index > 0 && index % PREPARE_SLICE === 0) await new Promise((resolve) => setImmediate(resolve));
      const input = this.prepare(texts[index], index, usage[index]);
      if ('error' in input) outcomes[index] = input;
      else prepared.push(input);
    }
    if (options.admit && prepared.length > 0) {
      const tokens = new Array<number>(texts.length).fill(0);
      for (const input of prepared) tokens[input.index] = this.calibration.apply(input.tokens);
      const refused = await options.admit(tokens);
      if (refused.size > 0) {
        for (const [index, deferred] of refused) outcomes[index] = deferred;
        prepared.splice(0, prepared.length, ...prepared.filter((input) => !refused.has(input.index)));
      }
    }
    const stopping = options.stopping;
    const context: CallContext = {
      signal,
      stopping,
      waits: signal && stopping ? AbortSignal.any([signal, stopping]) : (signal ?? stopping),
      lane: options.lane ?? 'interactive',
      deadline: options.retryBudgetMs === undefined ? Infinity : Date.now() + options.retryBudgetMs,
    };
    const requests = this.split(prepared);
    for (let r = 0; r < requests.length; r++) {
      const stop = await this.sendWithRetries(requests[r], outcomes, context);
      if (!stop) continue;
      // The provider is out of quota, down or refusing the account: the requests left would meet the same.
      for (const request of requests.slice(r)) {
        for (const input of request) outcomes[input.index] ??= stop;
      }
      break;
    }
    return { outcomes, usage };
  }

  /**
   * Accounts one attempt of `request` to its inputs: 1/n of a request each, and the tokens billed shared by
   * their token counts — the provider's reported total when it answered with one, otherwise the counted
   * tokens (flagged as estimated) for an answer without usage or a timeout, which the provider may have
   * processed and billed. Other failures (429, 5xx, rejected input) are not billed.
   */
  private account(request: PreparedInput[], outcome: { reportedTokens?: number; failed: boolean; billed: boolean }): void {
    const counted = request.reduce((sum, input) => sum + input.tokens, 0);
    for (const input of request) {
      const usage = input.usage;
      usage.requests += 1 / request.length;
      if (outcome.failed) usage.failedRequests += 1 / request.length;
      if (!outcome.billed) continue;
      if (outcome.reportedTokens !== undefined && counted > 0) {
        usage.tokens += (outcome.reportedTokens * input.tokens) / counted;
      } else {
        const tokens = this.calibration.apply(input.tokens);
        usage.tokens += tokens;
        usage.estimatedTokens += tokens;
      }
    }
  }

  /**
   * Sends one request until it succeeds or must be deferred. Returns a deferral that also applies to the
   * call's requests not sent yet, or undefined.
   */
  private async sendWithRetries(request: PreparedInput[], outcomes: EmbedOutcome[], context: CallContext): Promise<EmbedDeferral | undefined> {
    const counted = request.reduce((sum, input) => sum + input.tokens, 0);
    let failures = 0;
    let firstFailureAt = 0;
    let timeoutMs = this.requestTimeoutMs;
    for (;;) {
      context.signal?.throwIfAborted();
      if (context.stopping?.aborted) return stopped();
      try {
        await this.limiter.acquire(this.calibration.apply(counted), context.waits, context.lane);
      } catch (error) {
        if (context.stopping?.aborted && !context.signal?.aborted) return stopped();
        throw error;
      }
      const started = Date.now();
      let error: unknown;
      try {
        const { vectors, totalTokens } = await this.send(request.map((input) => input.text), context.signal, timeoutMs);
        this.recordSuccess(Date.now() - started);
        this.report(request.length, context.lane, 'success', started);
        if (totalTokens !== undefined) this.calibration.observe(counted, totalTokens);
        this.account(request, { reportedTokens: totalTokens, failed: false, billed: true });
        request.forEach((input, i) => (outcomes[input.index] = { vector: vectors[i] }));
        return undefined;
      } catch (caught) {
        error = caught;
      }
      if (context.signal?.aborted) throw context.signal.reason ?? error;
      this.report(request.length, context.lane, outcomeOf(error), started, error);
      this.account(request, { failed: true, billed: isTimeout(error) });
      if (isInputRejection(error)) {
        if (request.length === 1) {
          outcomes[request[0].index] = { error: `The embedding provider rejected this input: ${error.message}` };
          return undefined;
        }
        return this.sendInGroups(request, outcomes, context);
      }
      if (!isTransient(error)) {
        // The provider answered (a 4xx, a 429): it is up, whatever failed before.
        this.failingSince = undefined;
      }
      if (error instanceof EmbeddingQuotaExceededError) {
        return deferral('quota', error, false, this.quotaBackoffMs);
      }
      if (error instanceof EmbeddingRateLimitError) {
        // The limiter now holds every caller for the Retry-After; a 429 without one still waits a little,
        // so a provider that answers 429 at once is not hammered in a tight loop.
        const wait = Math.max(error.retryAfterMs, this.retry.backoffBaseMs, MIN_RATE_LIMIT_WAIT_MS);
        if (Date.now() + wait > context.deadline) return deferral('rate-limit', error, false, wait);
        if (error.retryAfterMs < wait && !(await this.pause(wait * (0.5 + Math.random() / 2), context))) return stopped();
        continue;
      }
      if (!isTransient(error)) {
        return deferral('failed', asError(error), true, this.retry.backoffBaseMs);
      }
      const now = Date.now();
      // Failures far apart (a blip long ago, then quiet) are not one outage: the timer restarts.
      if (this.failingSince !== undefined && now - this.lastFailureAt > 2 * this.retry.backoffMaxMs) this.failingSince = undefined;
      this.lastFailureAt = now;
      this.failingSince ??= now;
      if (firstFailureAt === 0) firstFailureAt = now;
      failures++;
      if (isTimeout(error)) timeoutMs = Math.min(this.options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS, timeoutMs * 2);
      if (now - this.failingSince >= this.retry.outagePauseMs) {
        const unavailable = new EmbeddingProviderUnavailableError(this.embeddingProvider.name, this.failingSince, asError(error));
        return deferral('unavailable', unavailable, false, this.retry.backoffMaxMs);
      }
      if (failures >= SUSPECT_AFTER_FAILURES && this.lastSuccessAt > firstFailureAt) {
        // Others get answers and this request does not: something in it may be the cause.
        if (request.length > 1) return this.sendInGroups(request, outcomes, context);
        // Only this input is deferred (using an attempt); the call's other inputs carry on.
        outcomes[request[0].index] = deferral('transient', error, true, this.retry.backoffBaseMs);
        return undefined;
      }
      const delay = Math.min(this.retry.backoffMaxMs, this.retry.backoffBaseMs * 2 ** (failures - 1)) * (0.5 + Math.random() / 2);
      if (now + delay > context.deadline) return deferral('transient', error, false, delay);
      if (!(await this.pause(delay, context))) return stopped();
    }
  }

  private report(inputs: number, lane: ProviderRequestLane, outcome: EmbeddingRequestOutcome, started: number, error?: unknown): void {
    const { name, model } = this.embeddingProvider;
    const message = error === undefined ? undefined : (error instanceof Error ? error.message : String(error)).slice(0, 500);
    this.options.events?.emit({ provider: name, model, lane, outcome, inputs, durationSeconds: (Date.now() - started) / 1000, ...(message ? { error: message } : {}) });
  }

  /** Waits `ms` between two attempts; false when the graceful stop ended the wait (rejects on `signal`). */
  private async pause(ms: number, context: CallContext): Promise<boolean> {
    try {
      await sleep(ms, context.waits);
      return true;
    } catch (error) {
      if (context.stopping?.aborted && !context.signal?.aborted) return false;
      throw error;
    }
  }

  /**
   * Sends a request that failed because of (probably) one of its inputs as about √n groups, each retried
   * and, when it fails again, split further; the first deferral that stops the call is returned.
   */
  private async sendInGroups(request: PreparedInput[], outcomes: EmbedOutcome[], context: CallContext): Promise<EmbedDeferral | undefined> {
    const size = Math.ceil(request.length / Math.ceil(Math.sqrt(request.length)));
    for (let i = 0; i < request.length; i += size) {
      const group = request.slice(i, i + size);
      const stop = await this.sendWithRetries(group, outcomes, context);
      if (!stop) continue;
      for (const input of request.slice(i)) outcomes[input.index] ??= stop;
      return stop;
    }
    return undefined;
  }

  private get retry(): Required<ProviderRetryOptions> {
    return {
      backoffBaseMs: this.options.retry?.backoffBaseMs ?? 500,
      backoffMaxMs: this.options.retry?.backoffMaxMs ?? 30_000,
      outagePauseMs: this.options.retry?.outagePauseMs ?? 300_000,
    };
  }

  private recordSuccess(latencyMs: number): void {
    this.failingSince = undefined;
    this.lastSuccessAt = Date.now();
    this.latencies.push(latencyMs);
    if (this.latencies.length > LATENCY_WINDOW) this.latencies.shift();
  }

  /**
   * One provider request with a timeout: the request is aborted when the timeout passes, and given up on
   * even if the provider ignores the signal, so a hung request costs the timeout and nothing more.
   */
  private async send(texts: string[], signal: AbortSignal | undefined, timeoutMs: number): Promise<{ vectors: Float32Array[]; totalTokens?: number }> {
    const provider = this.embeddingProvider;
    const timeout = new AbortController();
    const timedOut = new EmbeddingProviderError(
      provider.name,
      `Embedding provider "${provider.name}" (model "${provider.model}") did not answer a request of ${texts.length} input(s) ` +
        `within ${timeoutMs} ms. The work is retried; raise the request timeout if the provider is this slow when healthy.`,
      true,
      undefined,
    );
    (timedOut as { timedOut?: boolean }).timedOut = true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        timeout.abort(timedOut);
        reject(timedOut);
      }, timeoutMs);
    });
    let result;
    try {
      const combined = signal ? AbortSignal.any([signal, timeout.signal]) : timeout.signal;
      result = await Promise.race([provider.embed(texts, combined), expired]);
    } catch (error) {
      if (timeout.signal.aborted && !signal?.aborted) throw timedOut;
      if (error instanceof EmbeddingRateLimitError) this.limiter.backOff(error.retryAfterMs);
      // Without quota every request fails: hold all callers back instead of burning through the queue.
      if (error instanceof EmbeddingQuotaExceededError) this.limiter.backOff(this.quotaBackoffMs);
      throw error;
    } finally {
      clearTimeout(timer);
      // A provider that ignored the abort may still settle the race's loser; nothing waits for it.
      expired.catch(() => undefined);
    }
    if (result.rateLimit) this.limiter.observe(result.rateLimit);
    // Custom providers are checked here too: a missing or short vector would otherwise be stored silently.
    if (result.vectors.length !== texts.length) {
      throw new EmbeddingProviderError(
        provider.name,
        `Embedding provider "${provider.name}" (model "${provider.model}") returned ${result.vectors.length} vectors ` +
          `for ${texts.length} inputs. Fix the provider so embed() returns one vector per input, in order.`,
        false,
      );
    }
    const bad = result.vectors.findIndex((vector) => !vector || vector.length !== provider.dimensions);
    if (bad >= 0) {
      throw new EmbeddingProviderError(
        provider.name,
        `Embedding provider "${provider.name}" (model "${provider.model}") returned a vector of length ` +
          `${result.vectors[bad]?.length ?? 0} for input ${bad} of the request, but its dimensions are ` +
          `${provider.dimensions}. Fix the provider or its dimensions setting.`,
        false,
      );
    }
    const reported = result.totalTokens;
    return { vectors: result.vectors, totalTokens: typeof reported === 'number' && Number.isFinite(reported) && reported >= 0 ? reported : undefined };
  }

  private prepare(text: string, index: number, usage: EmbeddingUsage): PreparedInput | { error: string } {
    const provider = this.embeddingProvider;
    if (typeof text !== 'string' || text.trim() === '') {
      return {
        error:
          `Input ${index} is empty or only whitespace, so there is nothing to embed; ` +
          'check the fields the entity configuration builds its text from.',
      };
    }
    // One input must also fit in one request on its own.
    const limit = Math.min(provider.maxTokensPerInput, provider.maxTokensPerRequest);
    const tokens = this.count(text);
    if (tokens <= limit) return { index, text, tokens, usage };
    if (this.options.overlongInput === 'fail') {
      return {
        error:
          `Input ${index} has ${tokens} tokens, more than the ${limit}-token limit per input of embedding model ` +
          `"${provider.model}", so it was not sent. Shorten the text or set overlongInput to 'truncate'.`,
      };
    }
    const truncated = this.truncate(text, limit);
    if (truncated === undefined) {
      return {
        error:
          `Input ${index} has ${tokens} tokens, more than the ${limit}-token limit per input of embedding model ` +
          `"${provider.model}", and could not be truncated to fit. Shorten the text.`,
      };
    }
    return { index, text: truncated.text, tokens: truncated.tokens, usage };
  }

  /**
   * Cuts `text` to `limit` tokens by the estimate, then keeps cutting while an exact tokenizer
   * (`provider.countTokens`) still counts more than the limit.
   */
  private truncate(text: string, limit: number): { text: string; tokens: number } | undefined {
    let candidate = truncateToTokens(text, limit);
    for (let round = 0; round < MAX_TRUNCATION_ROUNDS; round++) {
      const tokens = this.count(candidate);
      if (candidate.trim() === '') return undefined;
      if (tokens <= limit) return { text: candidate, tokens };
      const estimate = estimateTokens(candidate);
      const target = Math.min(estimate - 1, Math.floor((estimate * limit) / tokens));
      candidate = truncateToTokens(candidate, target);
    }
    return undefined;
  }

  /**
   * @internal The inputs as a request would carry them — overlong ones truncated, or refused per
   * `overlongInput` — with their token counts, without sending anything: the Batch API sends them later.
   */
  prepareInputs(texts: string[]): Array<{ text: string; tokens: number } | { error: string }> {
    return texts.map((text, i) => {
      const prepared = this.prepare(text, i, emptyUsage());
      return 'error' in prepared ? prepared : { text: prepared.text, tokens: prepared.tokens };
    });
  }

  /** Tokens of `text` as this service counts them for limits and metering (the provider's tokenizer, else the estimate). */
  countTokens(text: string): number {
    return this.count(text);
  }

  /**
   * The provider's reported tokens over this instance's count of the same requests, learned from the
   * answers so far (see {@link TokenCalibration}); undefined until a few thousand tokens were reported.
   * About 1 with an exact tokenizer; below 1 when the byte estimate counts high.
   */
  get tokenRatio(): number | undefined {
    return this.calibration.ratio;
  }

  /**
   * How {@link countTokens} counts: with the model's own tokenizer, or with the byte estimate
   * (`ceil(utf8 bytes / 3)`) for a provider without one.
   */
  get tokenCounting(): 'tokenizer' | 'estimate' {
    return this.embeddingProvider.countTokens ? 'tokenizer' : 'estimate';
  }

  /** `counted` tokens (from {@link countTokens}) as the provider will probably report them. */
  calibratedTokens(counted: number): number {
    return this.calibration.apply(counted);
  }

  private count(text: string): number {
    return this.embeddingProvider.countTokens ? this.embeddingProvider.countTokens(text) : estimateTokens(text);
  }

  /** Greedy packing in input order, which is the fewest requests for contiguous, order-keeping splits. */
  private split(inputs: PreparedInput[]): PreparedInput[][] {
    const { maxInputsPerRequest, maxTokensPerRequest } = this.embeddingProvider;
    const requests: PreparedInput[][] = [];
    let current: PreparedInput[] = [];
    let tokens = 0;
    for (const input of inputs) {
      if (current.length > 0 && (current.length >= maxInputsPerRequest || tokens + input.tokens > maxTokensPerRequest)) {
        requests.push(current);
        current = [];
        tokens = 0;
      }
      current.push(input);
      tokens += input.tokens;
    }
    if (current.length > 0) requests.push(current);
    return requests;
  }
}

/** A non-retryable answer that blames the request's content rather than the account or the endpoint. */
/** A failed request's outcome, as {@link EmbeddingRequestEvents} report it. */
function outcomeOf(error: unknown): EmbeddingRequestOutcome {
  if (error instanceof EmbeddingRateLimitError) return 'rate_limited';
  if (error instanceof EmbeddingQuotaExceededError) return 'quota_exceeded';
  if (isTimeout(error)) return 'timeout';
  if (isInputRejection(error)) return 'rejected';
  return isTransient(error) ? 'transient_error' : 'error';
}

function isInputRejection(error: unknown): error is EmbeddingProviderError {
  return (
    error instanceof EmbeddingProviderError &&
    !error.retryable &&
    (error.status === 400 || error.status === 413 || error.status === 422)
  );
}

/** 5xx, timeouts, connection failures and errors of unknown kind: trying the same request again may work. */
function isTransient(error: unknown): boolean {
  if (error instanceof EmbeddingProviderError) return error.retryable;
  // Not a provider error at all (a custom provider's TypeError, a socket reset surfacing raw): the
  // request may well work next time, and the outage timer bounds how long that is assumed.
  return !(error instanceof EmbeddingQuotaExceededError);
}

function isTimeout(error: unknown): boolean {
  return (error as { timedOut?: boolean } | undefined)?.timedOut === true;
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** The deferral of inputs left unsent by the graceful stop: no attempt used, due again at once. */
function stopped(): EmbedDeferral {
  return deferral('shutdown', new Error('Not sent: the worker was shutting down; the item is released for the next worker.'), false, 0);
}

function deferral(reason: EmbedDeferral['reason'], cause: unknown, consumesAttempt: boolean, retryAfterMs: number): EmbedDeferral {
  const error = asError(cause);
  return { retry: error.message, reason, consumesAttempt, retryAfterMs: Math.max(0, Math.round(retryAfterMs)), cause: error };
}

/** Waits `ms`, or rejects with the signal's reason when it aborts first. */
function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    timer.unref();
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
