import { Logger } from '@nestjs/common';
import type { RateLimitOptions } from '../config/ai-core-options.interface';
import { LATENCY_ALLOWANCE_MS, type ProviderRequestLane } from './provider-rate-limiter';
import {
  ProviderCapacityStore,
  type CapacityAmounts,
  type CapacityLeaseResult,
  type ProviderCapacityKey,
  type SharedBucketLimits,
} from './provider-capacity.store';

/**
 * Longest time leased capacity is held, from the moment it may be used, before what is left of it goes back
 * to the shared bucket. A lease lets an instance send capacity later than the bucket counted it, so the
 * shared bucket is smaller by this much of burst (see {@link SHARED_BURST_MS}); 2 s covers one database
 * round trip and the time a waiting caller needs to pick its capacity up, many times over.
 */
export const LEASE_HOLD_MS = 2_000;

/**
 * A bulk lease asks for what the instance spent in this long before (at most this much of the rate), and
 * a lease may be booked this far ahead of the refill that pays for it, so a steady backfill asks the
 * database about once per this period instead of polling it at every refill of one request.
 */
export const LEASE_CHUNK_MS = 1_000;

/**
 * Burst of the shared bucket: a minute of the rate, less the latency allowance of the per-instance limiter
 * ({@link LATENCY_ALLOWANCE_MS}) and the {@link LEASE_HOLD_MS} a lease may lag behind the bucket. The
 * sustained rate is the configured one; only the burst after an idle period is 3 s smaller than the
 * provider's, which is what keeps the provider's own one-minute bucket from running dry.
 */
export const SHARED_BURST_MS = 60_000 - LATENCY_ALLOWANCE_MS - LEASE_HOLD_MS;

/**
 * Share of the shared bucket that only `interactive` leases (searches, live indexing) may take: a backfill
 * on any instance stops leasing at this level, so a live write finds capacity at once while backfills keep
 * the provider saturated. A tenth of the burst is about 6 s of the full rate, more than the
 * {@link LEASE_CHUNK_MS} a backfill may book below it.
 */
export const INTERACTIVE_RESERVE = 0.1;

/** Longest wait before a refused lease is asked again, so a lifted block or returned capacity is seen soon. */
const MAX_RETRY_MS = 1_000;
/** Least wait before a refused lease is asked again (the bucket's estimate may round to 0). */
const MIN_RETRY_MS = 5;
/** Wait before the database is asked again after it failed. */
const ERROR_RETRY_MS = 1_000;
/** A failing database is reported at most this often. */
const WARN_INTERVAL_MS = 60_000;
/** Capacity below this is treated as none (float sums). */
const EPSILON = 1e-9;

/** Capacity leased from the shared bucket and not spent yet. */
interface Grant extends CapacityAmounts {
  /** From when it may be used (epoch ms): a grant booked ahead starts once the refill has paid for it. */
  availableAt: number;
  /** When what is left goes back to the shared bucket (epoch ms). */
  expiresAt: number;
}

/** Capacity spent at one instant, kept for {@link LEASE_CHUNK_MS} to size the next bulk lease. */
interface Spend extends CapacityAmounts {
  at: number;
}

const NONE: CapacityAmounts = { requests: 0, tokens: 0 };

/**
 * One instance's share of a shared provider bucket ({@link ProviderCapacityStore}): the capacity it has
 * leased and not yet spent, and the policy that decides when to lease and how much. Used by
 * {@link ProviderRateLimiter} in `rateLimit.scope: 'cluster'`.
 *
 * - One lease covers the callers waiting in the lane; a bulk lease also asks for what the instance spent in
 *   the last {@link LEASE_CHUNK_MS} (at most that much of the rate), the requests likely to follow. An
 *   interactive lease takes exactly what its callers need.
 * - A lease may be booked up to {@link LEASE_CHUNK_MS} ahead: under a saturated bucket an instance gets a
 *   grant that starts when the refill has paid for it and waits for it locally, instead of asking again at
 *   every refill. A steady backfill thus makes about one database round trip per second (or per large
 *   request), not one per request.
 * - What is not spent within {@link LEASE_HOLD_MS} of its start goes back to the shared bucket.
 * - Bulk leases leave {@link INTERACTIVE_RESERVE} of the bucket for interactive ones, and an interactive
 *   caller does not wait for bulk capacity this instance booked ahead: it leases from the reserve.
 * - One lease is in flight at a time. A refused lease is asked again when the bucket says it would fit,
 *   at most {@link MAX_RETRY_MS} later. A failing database is retried every second and reported as a
 *   warning, and nothing is sent meanwhile (the workers cannot commit without the database either).
 * - Provider feedback is shared: {@link backOff} blocks the bucket for every instance, {@link exhaust}
 *   empties it.
 *
 * @example
 * ```ts
 * const leases = new ProviderCapacityLeases(new ProviderCapacityStore(dataSource), key, { requestsPerMinute: 3000 });
 * const limiter = new ProviderRateLimiter({ requestsPerMinute: 3000 }, leases);
 * ```
 */
export class ProviderCapacityLeases {
  private readonly logger = new Logger('ProviderRateLimiter');
  private readonly grants: Grant[] = [];
  private readonly spends: Spend[] = [];
  private limits: SharedBucketLimits;
  private leasing = false;
  /** Earliest next lease per lane; a refused interactive lease also holds bulk back. */
  private readonly retryAt: Record<ProviderRequestLane, number> = { interactive: 0, bulk: 0 };
  private listener: () => void = () => undefined;
  private expiryTimer: NodeJS.Timeout | undefined;
  private expiryTimerAt = 0;
  private lastWarning = 0;
  private sharedBlockUntil = 0;
  private lastDrain: Record<keyof CapacityAmounts, number> = { requests: 0, tokens: 0 };
  private closed = false;
  private readonly counters = { leases: 0, denied: 0, failed: 0, returned: 0 };

  constructor(
    private readonly store: ProviderCapacityStore,
    /** The shared bucket this instance leases from. */
    readonly key: ProviderCapacityKey,
    limits: RateLimitOptions,
  ) {
    this.limits = toBucketLimits(limits);
  }

  /** Whether neither requests nor tokens are limited (then there is nothing to lease). */
  get unlimited(): boolean {
    return this.limits.requestsPerMinute === 0 && this.limits.tokensPerMinute === 0;
  }

  /** Statements sent to the shared bucket so far: leases asked (granted or refused), refused, failed, and returns of unused capacity. */
  get stats(): Readonly<{ leases: number; denied: number; failed: number; returned: number }> {
    return { ...this.counters };
  }

  /** Capacity leased and not spent yet, whether it may be used now or starts later. */
  get held(): CapacityAmounts {
    return sum(this.grants);
  }

  /** Called whenever capacity may have arrived (a lease answered, a lease expired, a block lifted). */
  attach(listener: () => void): void {
    this.listener = listener;
  }

  /**
   * Milliseconds until one request of `tokens` in `lane` may go: 0 when leased capacity covers it now (then
   * call {@link take}), undefined while a lease is under way (the listener is called when it settles).
   * `waiting` (asked only when a lease is needed) is the estimated tokens of every caller of `lane` waiting
   * now, this one included, so one lease serves all of them instead of one lease each.
   */
  timeUntil(tokens: number, lane: ProviderRequestLane, now = Date.now(), waiting: () => number[] = () => [tokens]): number | undefined {
    if (this.unlimited) return 0;
    this.expire(now);
    const need = this.need(tokens, lane);
    const ready = sum(this.grants.filter((g) => g.availableAt <= now));
    if (covers(ready, need)) return 0;
    // Bulk waits for what this instance booked ahead; a live caller leases from the reserve instead.
    if (lane === 'bulk' && covers(this.held, need)) return this.readyAt(need) - now;
    if (this.leasing) return undefined;
    if (now < this.retryAt[lane]) return this.retryAt[lane] - now;
    const counted = lane === 'bulk' ? this.held : ready;
    const demand = sum(waiting().map((t) => this.need(t, lane)));
    this.lease(need, demand, counted, lane, now);
    return undefined;
  }

  /** Spends leased capacity for one request of `tokens` that {@link timeUntil} let go. */
  take(tokens: number, lane: ProviderRequestLane, now = Date.now()): void {
    if (this.unlimited) return;
    const need = this.need(tokens, lane);
    this.recentSpend(now);
    this.spends.push({ ...need, at: now });
    let requests = need.requests;
    let spent = need.tokens;
    for (const grant of this.grants) {
      if (grant.availableAt > now) continue;
      const r = Math.min(requests, grant.requests);
      const t = Math.min(spent, grant.tokens);
      grant.requests -= r;
      grant.tokens -= t;
      requests -= r;
      spent -= t;
    }
    this.prune();
  }

  /**
   * The provider asked to wait `ms` (429 Retry-After, exhausted quota): every instance stops leasing until
   * then. The capacity this instance holds waits for the local back-off and then expires or is spent.
   */
  backOff(ms: number): void {
    if (this.unlimited || this.closed || !(ms > 0)) return;
    const until = Date.now() + ms;
    // Several workers of this instance meet the same 429 at once: one write says it for all of them.
    if (until <= this.sharedBlockUntil + MIN_RETRY_MS) return;
    this.sharedBlockUntil = until;
    this.background('block', () => this.store.block(this.key, this.limits, ms));
  }

  /** Lifts the shared block (an operator resumed work), and lets this instance lease again at once. */
  clearBackOff(): void {
    if (this.unlimited || this.closed) return;
    this.sharedBlockUntil = 0;
    this.retryAt.interactive = 0;
    this.retryAt.bulk = 0;
    this.background('clear the block of', () => this.store.clearBlock(this.key)).then(() => this.listener());
  }

  /**
   * The provider reported nothing left in its window for these dimensions: what this instance holds of
   * them is dropped (not returned) and the shared bucket is emptied, at most once a second per dimension.
   */
  exhaust(dimensions: { requests: boolean; tokens: boolean }): void {
    if (this.closed) return;
    const now = Date.now();
    const drain = { requests: false, tokens: false };
    for (const dimension of ['requests', 'tokens'] as const) {
      const limited = dimension === 'requests' ? this.limits.requestsPerMinute > 0 : this.limits.tokensPerMinute > 0;
      if (!dimensions[dimension] || !limited) continue;
      for (const grant of this.grants) grant[dimension] = 0;
      if (now - this.lastDrain[dimension] < MAX_RETRY_MS) continue;
      this.lastDrain[dimension] = now;
      drain[dimension] = true;
    }
    this.prune();
    if (drain.requests || drain.tokens) this.background('drain', () => this.store.drain(this.key, this.limits, drain));
  }

  /** New limits from now on (the shared bucket refills at the rate of whichever instance leases). */
  updateLimits(limits: RateLimitOptions): void {
    this.limits = toBucketLimits(limits);
    this.listener();
  }

  /** Stops leasing and returns what is held, e.g. when the application shuts down. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = undefined;
    const held = this.held;
    this.grants.length = 0;
    if (held.requests > EPSILON || held.tokens > EPSILON) {
      await this.store.giveBack(this.key, this.limits, held).catch(() => undefined);
    }
  }

  /** What one request needs from the shared bucket: a request and its tokens, each only when limited. */
  private need(tokens: number, lane: ProviderRequestLane): CapacityAmounts {
    const usable = this.usable(lane);
    return {
      requests: this.limits.requestsPerMinute > 0 ? Math.min(1, usable.requests) : 0,
      // A request larger than what the lane may hold takes all of it, so it still passes (as in TokenBucket).
      tokens: this.limits.tokensPerMinute > 0 ? Math.min(Math.max(0, tokens), usable.tokens) : 0,
    };
  }

  /** What `lane` may take from a full bucket: all of it, or for bulk all but the reserve. */
  private usable(lane: ProviderRequestLane): CapacityAmounts {
    const capacity = ProviderCapacityStore.capacity(this.limits);
    const floor = this.floor(lane);
    return { requests: capacity.requests - floor.requests, tokens: capacity.tokens - floor.tokens };
  }

  private floor(lane: ProviderRequestLane): CapacityAmounts {
    if (lane === 'interactive') return NONE;
    const capacity = ProviderCapacityStore.capacity(this.limits);
    return { requests: capacity.requests * INTERACTIVE_RESERVE, tokens: capacity.tokens * INTERACTIVE_RESERVE };
  }

  /** The earliest time the grants available by then cover `need` (the caller checked that all of them do). */
  private readyAt(need: CapacityAmounts): number {
    const byStart = [...this.grants].sort((a, b) => a.availableAt - b.availableAt);
    const total = { requests: 0, tokens: 0 };
    for (const grant of byStart) {
      total.requests += grant.requests;
      total.tokens += grant.tokens;
      if (covers(total, need)) return grant.availableAt;
    }
    return byStart[byStart.length - 1]?.availableAt ?? 0;
  }

  /**
   * Asks the shared bucket for at least what the head of the line lacks (`need` less what is `counted`) and
   * at most what every waiting caller of the lane needs; a bulk lease also asks for what this instance
   * spent in the last {@link LEASE_CHUNK_MS} (at most that much of the rate). Interactive leases come out of
   * the reserve, so they take no more than their callers need: the rest of the reserve must not end up
   * spent by a backfill of this instance.
   */
  private lease(need: CapacityAmounts, demand: CapacityAmounts, counted: CapacityAmounts, lane: ProviderRequestLane, now: number): void {
    const deficit = { requests: Math.max(0, need.requests - counted.requests), tokens: Math.max(0, need.tokens - counted.tokens) };
    const recent = this.recentSpend(now);
    const chunk = (dimension: keyof CapacityAmounts, perMinute: number) =>
      lane === 'bulk' ? Math.min((perMinute * LEASE_CHUNK_MS) / 60_000, recent[dimension]) : 0;
    const want = (dimension: keyof CapacityAmounts, perMinute: number) =>
      perMinute > 0 ? Math.max(deficit[dimension], demand[dimension] - counted[dimension], chunk(dimension, perMinute) - counted[dimension]) : 0;
    const request = {
      need: deficit,
      want: { requests: want('requests', this.limits.requestsPerMinute), tokens: want('tokens', this.limits.tokensPerMinute) },
      floor: this.floor(lane),
      horizonMs: LEASE_CHUNK_MS,
    };
    this.leasing = true;
    this.counters.leases++;
    const sentAt = now;
    this.store.lease(this.key, this.limits, request).then(
      (result) => this.settle(result, lane, sentAt),
      (error: unknown) => this.fail(error),
    );
  }

  private settle(result: CapacityLeaseResult, lane: ProviderRequestLane, sentAt: number): void {
    this.leasing = false;
    if (this.closed) {
      if (result.granted) void this.store.giveBack(this.key, this.limits, result.amounts).catch(() => undefined);
      return;
    }
    const now = Date.now();
    if (result.granted) {
      // Used no earlier than the bucket allows: the statement ran before `now`, so `now` + its start is late
      // enough. Held no longer than LEASE_HOLD_MS after that start: counted from before the statement. A
      // statement slower than the hold (it waited for the row or a busy database) still lets the callers
      // waiting now use its grant: the bucket decided once it held the row lock, near the end of the wait.
      const availableAt = now + result.startsInMs;
      const expiresAt = Math.max(sentAt + result.startsInMs + LEASE_HOLD_MS, availableAt + MIN_RETRY_MS);
      this.grants.push({ ...result.amounts, availableAt, expiresAt });
      this.retryAt.interactive = 0;
      this.retryAt.bulk = 0;
      this.armExpiry();
    } else {
      this.counters.denied++;
      const at = now + Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, result.retryAfterMs));
      this.retryAt[lane] = at;
      // What an interactive lease cannot get, a bulk lease (which must leave the reserve) cannot either.
      if (lane === 'interactive') this.retryAt.bulk = Math.max(this.retryAt.bulk, at);
    }
    this.listener();
  }

  private fail(error: unknown): void {
    this.leasing = false;
    this.counters.failed++;
    if (this.closed) return;
    const now = Date.now();
    this.retryAt.interactive = now + ERROR_RETRY_MS;
    this.retryAt.bulk = now + ERROR_RETRY_MS;
    this.warn(`could not lease provider capacity (${(error as Error)?.message ?? String(error)}); requests wait and the lease is retried every ${ERROR_RETRY_MS} ms`);
    this.listener();
  }

  /** Capacity spent in the last {@link LEASE_CHUNK_MS} (older spends are forgotten). */
  private recentSpend(now: number): CapacityAmounts {
    while (this.spends.length > 0 && this.spends[0].at <= now - LEASE_CHUNK_MS) this.spends.shift();
    return sum(this.spends);
  }

  /** Returns what is left of expired grants to the shared bucket. */
  private expire(now: number): void {
    const leftover = { requests: 0, tokens: 0 };
    let expired = 0;
    for (const grant of this.grants) {
      if (grant.expiresAt > now) continue;
      leftover.requests += grant.requests;
      leftover.tokens += grant.tokens;
      grant.requests = 0;
      grant.tokens = 0;
      expired++;
    }
    if (expired === 0) return;
    this.prune();
    if (leftover.requests > EPSILON || leftover.tokens > EPSILON) {
      this.counters.returned++;
      this.background('return unused capacity to', () => this.store.giveBack(this.key, this.limits, leftover));
    }
  }

  private prune(): void {
    for (let i = this.grants.length - 1; i >= 0; i--) {
      if (this.grants[i].requests <= EPSILON && this.grants[i].tokens <= EPSILON) this.grants.splice(i, 1);
    }
    if (this.grants.length === 0 && this.expiryTimer) {
      clearTimeout(this.expiryTimer);
      this.expiryTimer = undefined;
    }
  }

  /** One timer for the earliest expiry; when it fires, leftovers go back and waiting callers look again. */
  private armExpiry(): void {
    if (this.grants.length === 0) return;
    const next = Math.min(...this.grants.map((g) => g.expiresAt));
    // A grant that starts now may expire before one booked ahead: the timer follows the earliest.
    if (this.expiryTimer && this.expiryTimerAt <= next) return;
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimerAt = next;
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = undefined;
      this.expire(Date.now());
      this.armExpiry();
      this.listener();
    }, Math.max(0, next - Date.now()));
    // Capacity waiting to be returned is no reason to keep a process alive.
    this.expiryTimer.unref();
  }

  private background(what: string, write: () => Promise<unknown>): Promise<void> {
    return write().then(
      () => undefined,
      (error: unknown) => this.warn(`could not ${what} the shared provider bucket (${(error as Error)?.message ?? String(error)})`),
    );
  }

  private warn(message: string): void {
    const now = Date.now();
    if (now - this.lastWarning < WARN_INTERVAL_MS) return;
    this.lastWarning = now;
    this.logger.warn(
      `Provider ${this.key.provider}/${this.key.model}: ${message}. Check the database connection and that AI_CORE_MIGRATIONS ran ` +
        `(table ai_provider_capacity), or set rateLimit.scope to "instance" to limit each process on its own.`,
    );
  }
}

function toBucketLimits(limits: RateLimitOptions): SharedBucketLimits {
  return { requestsPerMinute: limits.requestsPerMinute ?? 0, tokensPerMinute: limits.tokensPerMinute ?? 0, burstMs: SHARED_BURST_MS };
}

function sum(amounts: CapacityAmounts[]): CapacityAmounts {
  return amounts.reduce((total, a) => ({ requests: total.requests + a.requests, tokens: total.tokens + a.tokens }), { requests: 0, tokens: 0 });
}

function covers(held: CapacityAmounts, need: CapacityAmounts): boolean {
  return held.requests + EPSILON >= need.requests && held.tokens + EPSILON >= need.tokens;
}
