import type { RateLimitOptions } from '../config/ai-core-options.interface';
import type { RateLimitHints } from './embedding-provider.interface';
import type { ProviderCapacityLeases } from './provider-capacity.leases';
import { TokenBucket } from './token-bucket';

/** setTimeout's largest delay; longer waits are re-armed when the timer fires. */
const MAX_TIMER_MS = 2_147_483_647;

/**
 * Most time assumed between releasing a request here and the provider counting it. A provider bucket that is
 * full while a request travels cannot bank that refill, but a bucket here would; holding back this much
 * burst (capacity = rate × (60 s − allowance)) keeps a limiter set to the provider's own limit from
 * outrunning it, while the sustained rate stays the configured one.
 */
export const LATENCY_ALLOWANCE_MS = 1_000;
const BURST_MS = 60_000 - LATENCY_ALLOWANCE_MS;

/**
 * Which line a request waits in: `interactive` (searches and live indexing, where a person waits for the
 * answer) is always served before `bulk` (backfills).
 */
export type ProviderRequestLane = 'interactive' | 'bulk';

interface Waiter {
  readonly lane: ProviderRequestLane;
  readonly tokens: number;
  readonly resolve: () => void;
  readonly signal?: AbortSignal;
  readonly onAbort?: () => void;
}

/** The state of a {@link ProviderRateLimiter} at one moment. */
export interface ProviderLimiterSnapshot {
  /** `instance`: this process's own buckets; `cluster`: capacity leased from the shared bucket of every instance. */
  scope: 'instance' | 'cluster';
  /** The configured limits (null: none). */
  requestsPerMinute: number | null;
  tokensPerMinute: number | null;
  /** Callers of this instance waiting for capacity, by lane. */
  waiting: { interactive: number; bulk: number };
  /** Seconds every request is still held back after a 429's Retry-After or an exhausted quota (0: not blocked). */
  blockedSeconds: number;
}

/**
 * The gate in front of the embedding provider, shared by live indexing, searches and backfills: a limit of
 * requests per minute and one of estimated tokens per minute, plus provider feedback (429 Retry-After,
 * `x-ratelimit-*` headers).
 *
 * Where the capacity comes from: without `shared`, two token buckets of this instance (`rateLimit.scope:
 * 'instance'`); with `shared` ({@link ProviderCapacityLeases}, `scope: 'cluster'`), slices leased from a
 * bucket in the database that every instance using the same provider account shares, and provider feedback
 * is passed on to that bucket, so a 429 one instance meets holds back all of them. The lines, the order
 * and the back-offs below work the same either way.
 *
 * The sustained rate is the configured one; the burst after an idle period is one minute's worth less one
 * second, which absorbs network latency (see `LATENCY_ALLOWANCE_MS`).
 *
 * Callers wait in two lines: `interactive` (searches, live indexing) is always served before `bulk`
 * (backfills), so a backfill that fills the provider's budget never delays a person's request by more
 * than the capacity one request needs. Within a line callers are served first come, first served: a large
 * request at the head is not overtaken by small ones of its line, so it cannot starve. Capacity is taken
 * from both buckets at the moment a caller is released, so the buckets describe when requests were
 * actually sent.
 *
 * Waits use unref'd timers (a pending wait never keeps the process alive) and reject promptly on abort.
 *
 * @example
 * ```ts
 * const limiter = new ProviderRateLimiter({ requestsPerMinute: 3000, tokensPerMinute: 1_000_000 });
 * await limiter.acquire(estimatedTokens, signal);
 * const result = await provider.embed(texts);
 * if (result.rateLimit) limiter.observe(result.rateLimit);
 * ```
 */
export class ProviderRateLimiter {
  private readonly requests: TokenBucket;
  private readonly tokens: TokenBucket;
  /** Waiting callers: interactive ones first, each line in arrival order. */
  private readonly queue: Waiter[] = [];
  private blockedUntil = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param options the limits (0 or absent = unlimited).
   * @param shared where capacity comes from in `rateLimit.scope: 'cluster'`; without it, this instance's own buckets.
   */
  constructor(
    options: RateLimitOptions = {},
    private readonly shared?: ProviderCapacityLeases,
  ) {
    this.requests = new TokenBucket(options.requestsPerMinute, { burstMs: BURST_MS });
    this.tokens = new TokenBucket(options.tokensPerMinute, { burstMs: BURST_MS });
    shared?.attach(() => this.pump());
  }

  /** Callers currently waiting for capacity. */
  get pending(): number {
    return this.queue.length;
  }

  /** What the limiter is doing now, for operators (`GET /api/ai/monitoring/provider`). */
  snapshot(now = Date.now()): ProviderLimiterSnapshot {
    return {
      scope: this.shared ? 'cluster' : 'instance',
      requestsPerMinute: this.requests.ratePerMinute ?? null,
      tokensPerMinute: this.tokens.ratePerMinute ?? null,
      waiting: {
        interactive: this.queue.filter((w) => w.lane === 'interactive').length,
        bulk: this.queue.filter((w) => w.lane === 'bulk').length,
      },
      blockedSeconds: Math.max(0, this.blockedUntil - now) / 1000,
    };
  }

  /** Milliseconds this instance still holds every caller back after a 429's Retry-After or an exhausted quota (0: none). */
  get blockedMs(): number {
    return Math.max(0, this.blockedUntil - Date.now());
  }

  /**
   * Resolves when one request carrying `tokens` estimated tokens may be sent, and counts it against both
   * limits. A request larger than the tokens-per-minute limit waits for a full bucket and then passes.
   * `lane` `interactive` goes ahead of every waiting `bulk` caller (default `interactive`).
   * Rejects with `signal.reason` when `signal` aborts first; an aborted caller consumes no capacity.
   */
  acquire(tokens: number, signal?: AbortSignal, lane: ProviderRequestLane = 'interactive'): Promise<void> {
    if (!Number.isFinite(tokens)) {
      return Promise.reject(
        new RangeError(
          `ProviderRateLimiter.acquire: tokens is ${tokens}; pass the request's estimated token count as a finite number.`,
        ),
      );
    }
    if (signal?.aborted) return Promise.reject(abortReason(signal));
    return new Promise<void>((resolve, reject) => {
      let waiter: Waiter;
      const onAbort = signal
        ? () => {
            const index = this.queue.indexOf(waiter);
            if (index < 0) return;
            this.queue.splice(index, 1);
            reject(abortReason(signal));
            // The aborted caller may have been the head everyone else waited behind.
            if (index === 0) this.pump();
          }
        : undefined;
      waiter = { lane, tokens: Math.max(0, tokens), resolve, signal, onAbort };
      signal?.addEventListener('abort', onAbort!, { once: true });
      // An interactive caller goes behind the other interactive ones and ahead of every bulk one.
      const firstBulk = lane === 'interactive' ? this.queue.findIndex((w) => w.lane === 'bulk') : -1;
      const position = firstBulk < 0 ? this.queue.length : firstBulk;
      this.queue.splice(position, 0, waiter);
      if (position === 0) this.pump();
    });
  }

  /**
   * Makes every caller, waiting or future, wait at least `ms` from now; used when the provider answers 429
   * with Retry-After. Overlapping back-offs keep the later end.
   */
  backOff(ms: number): void {
    if (!(ms > 0)) return;
    // The provider's answer is about the account: in cluster scope every instance holds back too.
    this.shared?.backOff(ms);
    const until = Date.now() + ms;
    if (until <= this.blockedUntil) return;
    this.blockedUntil = until;
    this.pump();
  }

  /** Lifts a {@link backOff} at once, the shared one too (the request and token buckets keep their state). */
  clearBackOff(): void {
    this.shared?.clearBackOff();
    if (this.blockedUntil === 0) return;
    this.blockedUntil = 0;
    this.pump();
  }

  /**
   * Honours the provider's view of its window from a successful response. When a window reports nothing
   * remaining: a limited bucket is emptied (it then refills at the configured rate, which the provider's
   * remaining count of 0 says was reached), an unlimited one blocks until the reported reset, since there is
   * no rate to refill by.
   */
  observe(hints: RateLimitHints): void {
    const now = Date.now();
    if (this.shared && !this.shared.unlimited) {
      this.observeShared(hints);
      return;
    }
    let changed = ProviderRateLimiter.exhaust(this.requests, hints.remainingRequests, hints.resetRequestsMs, now);
    changed = ProviderRateLimiter.exhaust(this.tokens, hints.remainingTokens, hints.resetTokensMs, now) || changed;
    if (changed) this.pump();
  }

  /** Applies new limits at once, including to callers already waiting (0 or absent = unlimited). */
  updateLimits(options: RateLimitOptions): void {
    const now = Date.now();
    this.requests.setRatePerMinute(options.requestsPerMinute, now);
    this.tokens.setRatePerMinute(options.tokensPerMinute, now);
    this.shared?.updateLimits(options);
    this.pump();
  }

  /** Returns the capacity this instance leased and did not use to the shared bucket (Nest calls it at shutdown). */
  async onModuleDestroy(): Promise<void> {
    await this.shared?.close();
  }

  /**
   * {@link observe} in cluster scope: a limited dimension reported exhausted empties the shared bucket; an
   * unlimited one with a reset time blocks everyone until then, as a back-off.
   */
  private observeShared(hints: RateLimitHints): void {
    const exhausted = (remaining: number | undefined) => remaining !== undefined && remaining <= 0;
    const requests = exhausted(hints.remainingRequests);
    const tokens = exhausted(hints.remainingTokens);
    if (!requests && !tokens) return;
    this.shared!.exhaust({ requests, tokens });
    const unlimitedReset = Math.max(
      requests && this.requests.unlimited ? (hints.resetRequestsMs ?? 0) : 0,
      tokens && this.tokens.unlimited ? (hints.resetTokensMs ?? 0) : 0,
    );
    if (unlimitedReset > 0) this.backOff(unlimitedReset);
    else this.pump();
  }

  private static exhaust(
    bucket: TokenBucket,
    remaining: number | undefined,
    resetMs: number | undefined,
    now: number,
  ): boolean {
    if (remaining === undefined || remaining > 0) return false;
    if (!bucket.unlimited) {
      bucket.drain(now, now);
      return true;
    }
    if (resetMs === undefined || !(resetMs > 0)) return false;
    bucket.blockUntil(now + resetMs);
    return true;
  }

  /** Whether capacity comes from the shared bucket (cluster scope with a limit set). */
  private get leasing(): boolean {
    return this.shared !== undefined && !this.shared.unlimited;
  }

  /** Ms until `head` may go; undefined while a lease is under way. */
  private timeUntil(head: Waiter, now: number): number | undefined {
    const blocked = this.blockedUntil - now;
    if (this.leasing) {
      if (blocked > 0) return blocked;
      return this.shared!.timeUntil(head.tokens, head.lane, now, () => this.queue.filter((w) => w.lane === head.lane).map((w) => w.tokens));
    }
    return Math.max(blocked, this.requests.timeUntil(1, now), this.tokens.timeUntil(head.tokens, now));
  }

  /** Releases every caller that may go now, in order, and arms one timer for the next. */
  private pump(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    while (this.queue.length > 0) {
      const head = this.queue[0];
      const now = Date.now();
      const wait = this.timeUntil(head, now);
      // A lease is under way: its answer pumps again.
      if (wait === undefined) return;
      if (wait > 0) {
        this.timer = setTimeout(() => {
          this.timer = undefined;
          this.pump();
        }, Math.min(wait, MAX_TIMER_MS));
        // A process with nothing to do but wait for rate-limit capacity should be free to exit.
        this.timer.unref();
        return;
      }
      this.queue.shift();
      if (this.leasing) {
        this.shared!.take(head.tokens, head.lane, now);
      } else {
        this.requests.reserve(1, now);
        this.tokens.reserve(head.tokens, now);
      }
      if (head.signal && head.onAbort) head.signal.removeEventListener('abort', head.onAbort);
      head.resolve();
    }
  }
}

function abortReason(signal: AbortSignal): unknown {
  return (
    signal.reason ??
    new Error('The wait for embedding rate-limit capacity was aborted before capacity became available.')
  );
}
