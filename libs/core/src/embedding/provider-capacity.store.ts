import { returnedRows } from '../common/query-result';

/** Which shared bucket: one per provider, model and API key fingerprint (see {@link providerCapacityKey}). */
export interface ProviderCapacityKey {
  /** The provider's name, e.g. `openai`. */
  provider: string;
  /** The model the requests are for (OpenAI limits each model separately). */
  model: string;
  /** Fingerprint of the endpoint and API key, never the key; empty for providers without one. */
  account: string;
}

/** The refill rates and the size of a shared bucket, as the calling instance is configured. */
export interface SharedBucketLimits {
  /** Requests added per minute; 0 = requests are not limited (and not counted). */
  requestsPerMinute: number;
  /** Tokens added per minute; 0 = tokens are not limited (and not counted). */
  tokensPerMinute: number;
  /** Capacity of each dimension, as this many ms of its rate. */
  burstMs: number;
}

/** An amount of both dimensions of a bucket. */
export interface CapacityAmounts {
  /** Provider requests. */
  requests: number;
  /** Estimated tokens of those requests. */
  tokens: number;
}

/** What {@link ProviderCapacityStore.lease} asks for. */
export interface CapacityLeaseRequest {
  /** Least that is of use: nothing is granted unless this much can be granted, in both dimensions. */
  need: CapacityAmounts;
  /** Most to take when more can be granted; at least `need`. */
  want: CapacityAmounts;
  /** The balance a grant must leave once it starts (the reserve live work may use and a backfill may not). */
  floor: CapacityAmounts;
  /**
   * How far ahead a grant may start, in ms: the balance may go below `floor` by this much of refill, and
   * the grant starts once the refill has brought it back (a reservation, as `TokenBucket.reserve`
   * makes locally). 0 grants only what is there now. Booking ahead is what spares a saturated bucket from
   * being polled at every refill.
   */
  horizonMs: number;
}

/** The answer of {@link ProviderCapacityStore.lease}. */
export interface CapacityLeaseResult {
  /** Whether `need` was granted. */
  granted: boolean;
  /** What was taken from the shared bucket (zero when not granted). */
  amounts: CapacityAmounts;
  /** Milliseconds from the statement until the grant may be used (0 at once; at most the horizon). */
  startsInMs: number;
  /** The bucket after this lease (below `floor` while grants are booked ahead). */
  balance: CapacityAmounts;
  /**
   * When refused: milliseconds until `need` could be granted within the horizon, judged from the balance,
   * the rates and the block. Others may lease meanwhile, so it is the earliest sensible retry, not a promise.
   */
  retryAfterMs: number;
  /** Milliseconds the bucket stays blocked by a provider's Retry-After (0 when not blocked). */
  blockedMs: number;
}

/** Something that runs SQL with `$n` parameters: a TypeORM DataSource or EntityManager, or a `pg` pool. */
export interface CapacityQueryRunner {
  /** Runs one statement; answers its rows (or TypeORM's `[rows, count]` for an UPDATE). */
  query(sql: string, parameters?: unknown[]): Promise<any>;
}

const MS_PER_MINUTE = 60_000;

/**
 * The bucket as of the statement's clock, refilled and locked. Parameters: $1 provider, $2 model, $3 account,
 * $4/$5 requests/tokens per minute, $6/$7 capacities, $8 the clock (null: the database's).
 *
 * `FOR UPDATE` makes concurrent statements of other instances take turns on the row, and it reads the newest
 * version, so the UPDATE that follows in the same statement never writes a balance computed from a stale one.
 * The database's clock is the one every instance shares: refill never depends on an instance's own clock.
 */
const REFILLED = `
  cur AS (
    SELECT provider, model, account, requests, tokens, refilled_at, blocked_until,
           coalesce($8::timestamptz, clock_timestamp()) AS now
      FROM ai_provider_capacity
     WHERE provider = $1 AND model = $2 AND account = $3
       FOR UPDATE
  ), elapsed AS (
    SELECT cur.*, greatest(0, extract(epoch FROM now - refilled_at)::float8) AS seconds FROM cur
  ), bal AS (
    SELECT elapsed.*,
           CASE WHEN $4::float8 > 0 THEN least($6::float8, requests + $4::float8 * seconds / 60) ELSE 0 END AS r,
           CASE WHEN $5::float8 > 0 THEN least($7::float8, tokens + $5::float8 * seconds / 60) ELSE 0 END AS t
      FROM elapsed
  )`;

/** The row of the key the statement computed (`d`) joined to the table (`c`). */
const SAME_ROW = `c.provider = d.provider AND c.model = d.model AND c.account = d.account`;

/**
 * The shared token buckets of `rateLimit.scope: 'cluster'` in `ai_provider_capacity`: one row per provider
 * account, refilled by elapsed time at the limits' rate and capped at `burstMs` of it, changed only by
 * single atomic statements, so any number of instances can lease from one bucket without a transaction
 * of their own.
 *
 * Every method takes an optional `now` for tests; production calls use the database's clock.
 *
 * @example
 * ```ts
 * const store = new ProviderCapacityStore(dataSource);
 * const result = await store.lease(key, { requestsPerMinute: 3000, tokensPerMinute: 1e6, burstMs: 57_000 }, {
 *   need: { requests: 1, tokens: 800 }, want: { requests: 50, tokens: 16_000 }, floor: { requests: 0, tokens: 0 }, horizonMs: 1000,
 * });
 * // result.granted, result.amounts, result.startsInMs
 * ```
 */
export class ProviderCapacityStore {
  constructor(private readonly db: CapacityQueryRunner) {}

  /** Capacity of each dimension under `limits` (0 for an unlimited one). */
  static capacity(limits: SharedBucketLimits): CapacityAmounts {
    return {
      requests: (limits.requestsPerMinute * limits.burstMs) / MS_PER_MINUTE,
      tokens: (limits.tokensPerMinute * limits.burstMs) / MS_PER_MINUTE,
    };
  }

  /**
   * Takes between `need` and `want` from the bucket when that much can start within `horizonMs` above
   * `floor` in both dimensions, and no provider back-off blocks it beyond the horizon (adding the refill
   * since the last lease); otherwise changes nothing and says when `need` would fit. A missing row is
   * created full.
   */
  async lease(key: ProviderCapacityKey, limits: SharedBucketLimits, request: CapacityLeaseRequest, now?: Date): Promise<CapacityLeaseResult> {
    const want = {
      requests: Math.max(request.want.requests, request.need.requests),
      tokens: Math.max(request.want.tokens, request.need.tokens),
    };
    // `room`: what may be granted, counting the refill of the horizon. The grant starts when the balance after
    // it is back at the floor (or when the block ends). A refused lease writes nothing: refill depends only
    // on the time elapsed since `refilled_at`, so the next statement computes the same balance.
    const row = await this.withRow(key, limits, now, () =>
      this.db.query(
        `WITH ${REFILLED}, room AS (
           SELECT bal.*,
                  greatest(0, coalesce(extract(epoch FROM blocked_until - now)::float8 * 1000, 0)) AS blocked_ms,
                  greatest(0, extract(epoch FROM refilled_at - now)::float8 * 1000) AS refill_delay_ms,
                  CASE WHEN $4::float8 > 0 THEN r - $9::float8 + $4::float8 * $15::float8 / 60000 ELSE 0 END AS room_r,
                  CASE WHEN $5::float8 > 0 THEN t - $10::float8 + $5::float8 * $15::float8 / 60000 ELSE 0 END AS room_t
             FROM bal
         ), decided AS (
           SELECT room.*,
                  blocked_ms <= $15::float8 AND room_r >= $11::float8 AND room_t >= $12::float8 AS ok,
                  least($13::float8, room_r) AS x_r,
                  least($14::float8, room_t) AS x_t
             FROM room
         ), updated AS (
           UPDATE ai_provider_capacity c
              SET requests = d.r - d.x_r,
                  tokens = d.t - d.x_t,
                  refilled_at = greatest(d.refilled_at, d.now),
                  requests_per_minute = $4::float8,
                  tokens_per_minute = $5::float8,
                  updated_at = d.now
             FROM decided d
            WHERE ${SAME_ROW} AND d.ok
           RETURNING c.requests, c.tokens
         )
         SELECT d.ok, d.r, d.t, d.x_r, d.x_t, d.blocked_ms, d.refill_delay_ms FROM decided d LEFT JOIN updated u ON true`,
        [
          ...this.common(key, limits, now),
          request.floor.requests,
          request.floor.tokens,
          request.need.requests,
          request.need.tokens,
          want.requests,
          want.tokens,
          Math.max(0, request.horizonMs),
        ],
      ),
    );
    const before = { requests: Number(row.r), tokens: Number(row.t) };
    const blockedMs = Number(row.blocked_ms);
    const refillDelay = Number(row.refill_delay_ms);
    // Ms until the balance, less `amount`, is back at the floor in both dimensions.
    const until = (amount: CapacityAmounts) => {
      const dimension = (deficit: number, perMinute: number) => (deficit > 0 && perMinute > 0 ? refillDelay + (deficit * MS_PER_MINUTE) / perMinute : 0);
      return Math.max(
        dimension(amount.requests + request.floor.requests - before.requests, limits.requestsPerMinute),
        dimension(amount.tokens + request.floor.tokens - before.tokens, limits.tokensPerMinute),
      );
    };
    if (row.ok) {
      const amounts = { requests: Number(row.x_r), tokens: Number(row.x_t) };
      const balance = { requests: before.requests - amounts.requests, tokens: before.tokens - amounts.tokens };
      return { granted: true, amounts, startsInMs: Math.ceil(Math.max(blockedMs, until(amounts))), balance, retryAfterMs: 0, blockedMs };
    }
    const retryAfterMs = Math.ceil(Math.max(blockedMs, until(request.need)) - Math.max(0, request.horizonMs));
    return { granted: false, amounts: { requests: 0, tokens: 0 }, startsInMs: 0, balance: before, retryAfterMs: Math.max(0, retryAfterMs), blockedMs };
  }

  /**
   * Returns leased capacity that was not used (its lease expired). Added without refill and capped at the
   * capacity: the bucket never holds more than if the capacity had not been leased at all.
   */
  async giveBack(key: ProviderCapacityKey, limits: SharedBucketLimits, amounts: CapacityAmounts): Promise<void> {
    const capacity = ProviderCapacityStore.capacity(limits);
    await this.db.query(
      `UPDATE ai_provider_capacity
          SET requests = CASE WHEN $4::float8 > 0 THEN least($4::float8, requests + $6::float8) ELSE requests END,
              tokens = CASE WHEN $5::float8 > 0 THEN least($5::float8, tokens + $7::float8) ELSE tokens END
        WHERE provider = $1 AND model = $2 AND account = $3`,
      [key.provider, key.model, key.account, capacity.requests, capacity.tokens, Math.max(0, amounts.requests), Math.max(0, amounts.tokens)],
    );
  }

  /**
   * No lease is granted for `ms` from now (a later block already set is kept): the provider answered 429
   * with Retry-After, or its quota ran out, and every instance should hold back, not only the one that saw it.
   */
  async block(key: ProviderCapacityKey, limits: SharedBucketLimits, ms: number, now?: Date): Promise<void> {
    await this.withRow(key, limits, now, () =>
      this.db.query(
        `WITH t AS (SELECT coalesce($4::timestamptz, clock_timestamp()) AS now)
         UPDATE ai_provider_capacity
            SET blocked_until = greatest(coalesce(blocked_until, t.now), t.now + $5::float8 * interval '1 millisecond'), updated_at = t.now
           FROM t
          WHERE provider = $1 AND model = $2 AND account = $3
         RETURNING blocked_until`,
        [key.provider, key.model, key.account, now ?? null, ms],
      ),
    );
  }

  /** Lifts a {@link block} at once (an operator resumed work after the quota was restored). */
  async clearBlock(key: ProviderCapacityKey): Promise<void> {
    await this.db.query(`UPDATE ai_provider_capacity SET blocked_until = NULL WHERE provider = $1 AND model = $2 AND account = $3`, [
      key.provider,
      key.model,
      key.account,
    ]);
  }

  /**
   * Empties the chosen dimensions (the provider reported nothing remaining in its window): their balance
   * becomes at most 0 and refills at the rate from now on. The other dimension keeps its refill.
   */
  async drain(key: ProviderCapacityKey, limits: SharedBucketLimits, dimensions: { requests: boolean; tokens: boolean }, now?: Date): Promise<void> {
    await this.withRow(key, limits, now, () =>
      this.db.query(
        `WITH ${REFILLED}
         UPDATE ai_provider_capacity c
            SET requests = CASE WHEN $9::boolean THEN least(d.r, 0) ELSE d.r END,
                tokens = CASE WHEN $10::boolean THEN least(d.t, 0) ELSE d.t END,
                refilled_at = greatest(d.refilled_at, d.now),
                updated_at = d.now
           FROM bal d
          WHERE ${SAME_ROW}
         RETURNING c.requests`,
        [...this.common(key, limits, now), dimensions.requests, dimensions.tokens],
      ),
    );
  }

  /** The bucket as a lease would see it now (refilled, not changed), or undefined before the first lease. */
  async peek(key: ProviderCapacityKey, limits: SharedBucketLimits, now?: Date): Promise<(CapacityAmounts & { blockedMs: number }) | undefined> {
    // FOR UPDATE in the shared fragment is harmless here: the lock ends with this statement.
    const [row] = returnedRows<{ r: number; t: number; blocked_ms: number }>(
      await this.db.query(
        `WITH ${REFILLED}
         SELECT r, t, greatest(0, coalesce(extract(epoch FROM blocked_until - now)::float8 * 1000, 0)) AS blocked_ms FROM bal`,
        this.common(key, limits, now),
      ),
    );
    return row ? { requests: Number(row.r), tokens: Number(row.t), blockedMs: Number(row.blocked_ms) } : undefined;
  }

  private common(key: ProviderCapacityKey, limits: SharedBucketLimits, now: Date | undefined): unknown[] {
    const capacity = ProviderCapacityStore.capacity(limits);
    return [key.provider, key.model, key.account, limits.requestsPerMinute, limits.tokensPerMinute, capacity.requests, capacity.tokens, now ?? null];
  }

  /**
   * Runs `statement`, which changes the key's row and returns it; when there is no row yet, creates it full
   * (nothing was sent through this bucket before) and runs the statement again. Two instances creating it
   * at once are fine: the second insert does nothing.
   */
  private async withRow(key: ProviderCapacityKey, limits: SharedBucketLimits, now: Date | undefined, statement: () => Promise<unknown>): Promise<any> {
    const [row] = returnedRows(await statement());
    if (row) return row;
    const capacity = ProviderCapacityStore.capacity(limits);
    await this.db.query(
      `INSERT INTO ai_provider_capacity (provider, model, account, requests_per_minute, tokens_per_minute, requests, tokens, refilled_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, coalesce($8::timestamptz, clock_timestamp()), coalesce($8::timestamptz, clock_timestamp()))
       ON CONFLICT (provider, model, account) DO NOTHING`,
      [key.provider, key.model, key.account, limits.requestsPerMinute, limits.tokensPerMinute, capacity.requests, capacity.tokens, now ?? null],
    );
    const [created] = returnedRows(await statement());
    if (!created) {
      throw new Error(
        `The shared provider bucket of ${key.provider}/${key.model} could not be created in ai_provider_capacity; ` +
          'check that AI_CORE_MIGRATIONS ran (AiProviderCapacity1732100000980) and that the application may write that table.',
      );
    }
    return created;
  }
}
