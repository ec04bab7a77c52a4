const MS_PER_MINUTE = 60_000;

/** Options of {@link TokenBucket}. */
export interface TokenBucketOptions {
  /** Most units the bucket holds, fixed whatever the rate. Overrides `burstMs`. */
  capacity?: number;
  /** Capacity expressed as this many ms of refill, so it follows rate changes. Default 60,000 (one minute's worth). */
  burstMs?: number;
  /** Clock reading for the initial (full) state. */
  now?: number;
}

/**
 * A token bucket that refills continuously at `ratePerMinute` up to its capacity (by default one minute's
 * worth, the way OpenAI's limits behave). A rate of 0 or `undefined` means unlimited.
 *
 * Pure bookkeeping: no timers, and every method takes an injectable `now` (epoch ms), so callers decide how
 * to wait and tests control the clock.
 *
 * @example
 * ```ts
 * const bucket = new TokenBucket(60);   // 60 per minute, 60 may be spent at once
 * const waitMs = bucket.reserve(1);      // 0 while the bucket has capacity
 * ```
 */
export class TokenBucket {
  private rate: number | undefined;
  private readonly fixedCapacity: number | undefined;
  private readonly burstMs: number;
  private balance: number;
  /** Instant up to which refill has been accounted; may lie in the future after {@link drain}. */
  private refilledAt: number;
  private blockedUntil = 0;

  /** @param ratePerMinute units added per minute; 0 or `undefined` = unlimited. */
  constructor(ratePerMinute?: number, options: TokenBucketOptions = {}) {
    this.rate = TokenBucket.normaliseRate(ratePerMinute);
    this.fixedCapacity = options.capacity !== undefined && options.capacity > 0 ? options.capacity : undefined;
    this.burstMs = options.burstMs !== undefined && options.burstMs > 0 ? options.burstMs : MS_PER_MINUTE;
    this.refilledAt = options.now ?? Date.now();
    this.balance = this.capacity;
  }

  /** Units added per minute, or `undefined` when unlimited. */
  get ratePerMinute(): number | undefined {
    return this.rate;
  }

  /** Whether the bucket never makes anyone wait (except for {@link blockUntil}). */
  get unlimited(): boolean {
    return this.rate === undefined;
  }

  /** Most units the bucket holds; `Infinity` when unlimited. */
  get capacity(): number {
    if (this.rate === undefined) return Infinity;
    return this.fixedCapacity ?? (this.rate * this.burstMs) / MS_PER_MINUTE;
  }

  /** Units available at `now`; negative while reservations are queued ahead of the refill. */
  available(now = Date.now()): number {
    this.refill(now);
    return this.balance;
  }

  /**
   * Milliseconds from `now` until `n` units would be available, without reserving them.
   * Requests larger than the capacity are treated as exactly the capacity, so they still pass eventually.
   */
  timeUntil(n: number, now = Date.now()): number {
    this.refill(now);
    const blocked = Math.max(0, this.blockedUntil - now);
    if (this.rate === undefined) return blocked;
    const deficit = Math.min(Math.max(n, 0), this.capacity) - this.balance;
    if (deficit <= 0) return blocked;
    return Math.max(blocked, this.refillDelay(now) + this.msFor(deficit));
  }

  /**
   * Reserves `n` units and returns the milliseconds to wait before using them (0 when available now).
   *
   * The balance may go negative: later callers see the debt of earlier ones and get longer waits, so
   * concurrent callers are served in reservation order. A request larger than the capacity reserves the
   * capacity, so it waits at most for a full refill instead of forever.
   */
  reserve(n: number, now = Date.now()): number {
    const wait = this.timeUntil(n, now);
    if (this.rate !== undefined) this.balance -= Math.min(Math.max(n, 0), this.capacity);
    return wait;
  }

  /**
   * Changes the rate (0 or `undefined` = unlimited) from `now` on. Refill up to `now` is accounted at the old
   * rate; a balance above the new capacity is cut to it, and a bucket that becomes limited starts full.
   */
  setRatePerMinute(ratePerMinute: number | undefined, now = Date.now()): void {
    this.refill(now);
    const wasUnlimited = this.rate === undefined;
    this.rate = TokenBucket.normaliseRate(ratePerMinute);
    if (this.rate === undefined) {
      this.balance = 0;
      return;
    }
    this.balance = wasUnlimited ? this.capacity : Math.min(this.balance, this.capacity);
  }

  /**
   * Empties the bucket and keeps it empty until `untilMs` (epoch ms; default `now`), after which it refills at
   * its rate. Use it when the provider reports its window exhausted. Reservations already queued (a negative
   * balance) keep their place. On an unlimited bucket this is {@link blockUntil}.
   */
  drain(untilMs?: number, now = Date.now()): void {
    const until = untilMs ?? now;
    if (this.rate === undefined) {
      this.blockUntil(until);
      return;
    }
    this.refill(now);
    this.balance = Math.min(this.balance, 0);
    this.refilledAt = Math.max(this.refilledAt, until);
  }

  /**
   * Grants nothing before `timestamp` (epoch ms) while the balance keeps refilling, e.g. to honour a
   * provider's Retry-After. An earlier timestamp than the current block is ignored.
   */
  blockUntil(timestamp: number): void {
    this.blockedUntil = Math.max(this.blockedUntil, timestamp);
  }

  private refill(now: number): void {
    if (this.rate === undefined || now <= this.refilledAt) return;
    this.balance = Math.min(this.capacity, this.balance + ((now - this.refilledAt) * this.rate) / MS_PER_MINUTE);
    this.refilledAt = now;
  }

  /** Time until refill resumes after a {@link drain} into the future. */
  private refillDelay(now: number): number {
    return Math.max(0, this.refilledAt - now);
  }

  private msFor(units: number): number {
    if (this.rate === undefined) return 0;
    return Math.ceil((units * MS_PER_MINUTE) / this.rate);
  }

  private static normaliseRate(ratePerMinute: number | undefined): number | undefined {
    if (ratePerMinute === undefined || ratePerMinute === 0) return undefined;
    if (!(ratePerMinute > 0) || !Number.isFinite(ratePerMinute)) {
      throw new RangeError(
        `TokenBucket: rate ${ratePerMinute} per minute is invalid; use a positive number, or 0 / undefined for unlimited.`,
      );
    }
    return ratePerMinute;
  }
}
