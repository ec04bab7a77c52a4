import { AI_CORE_ENTITIES, AI_CORE_MIGRATIONS, createAiDataSource } from '@ai-infrastructure/core';
import { ProviderRateLimiter } from '@ai-infrastructure/core/internal';
import { INTERACTIVE_RESERVE, ProviderCapacityLeases, SHARED_BURST_MS } from '@ai-infrastructure/core/embedding/provider-capacity.leases';
import { ProviderCapacityStore, type ProviderCapacityKey, type SharedBucketLimits } from '@ai-infrastructure/core/embedding/provider-capacity.store';
import { setMaxListeners } from 'node:events';
import { Pool } from 'pg';
import type { DataSource } from 'typeorm';
import { describeEachEngine } from './support/test-database';

/** 600 requests and 60,000 tokens per minute: 10 requests and 1000 tokens per second, 570 and 57,000 at most. */
const LIMITS: SharedBucketLimits = { requestsPerMinute: 600, tokensPerMinute: 60_000, burstMs: SHARED_BURST_MS };
const NONE = { requests: 0, tokens: 0 };
const T0 = new Date('2026-03-01T12:00:00.000Z');
const at = (ms: number) => new Date(T0.getTime() + ms);

let keys = 0;
/** A bucket of its own for each test. */
function freshKey(): ProviderCapacityKey {
  return { provider: 'openai', model: 'text-embedding-3-small', account: `test-${process.pid}-${++keys}` };
}

/**
 * The shared token bucket of `rateLimit.scope: 'cluster'` (ai_provider_capacity) on the real databases: its
 * arithmetic with a clock the test sets, that concurrent leases never hand out more than it holds, and two
 * limiters (as two instances) sharing it with real time.
 */
describeEachEngine('Shared provider bucket', ({ getUrl }) => {
  let dataSource: DataSource;
  let store: ProviderCapacityStore;

  beforeAll(async () => {
    dataSource = await createAiDataSource(
      { entities: AI_CORE_ENTITIES, migrations: AI_CORE_MIGRATIONS, migrationsRun: true, logging: false },
      { DATABASE_URL: getUrl() },
    );
    await dataSource.initialize();
    store = new ProviderCapacityStore(dataSource);
  });

  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('starts full at 57 s of the rate, refills by elapsed time on the database clock, and never holds more than that', async () => {
    const key = freshKey();
    const everything = { need: { requests: 1, tokens: 100 }, want: { requests: 10_000, tokens: 1e9 }, floor: NONE, horizonMs: 0 };
    expect(await store.lease(key, LIMITS, everything, T0)).toMatchObject({ granted: true, amounts: { requests: 570, tokens: 57_000 }, balance: NONE });

    // One second later: one second of refill, whatever was asked for.
    expect(await store.lease(key, LIMITS, everything, at(1_000))).toMatchObject({ granted: true, amounts: { requests: 10, tokens: 1_000 } });
    // Nothing left: refused, with the time the refill needs for the request (100 ms for 1 request and for 100 tokens).
    const refused = await store.lease(key, LIMITS, everything, at(1_000));
    expect(refused).toMatchObject({ granted: false, amounts: NONE, retryAfterMs: 100, blockedMs: 0 });

    expect(await store.peek(key, LIMITS, at(1_050))).toEqual({ requests: 0.5, tokens: 50, blockedMs: 0 });
    expect(await store.peek(key, LIMITS, at(600_000))).toEqual({ requests: 570, tokens: 57_000, blockedMs: 0 });
  });

  it('grants between need and want: a request larger than what is left waits, a smaller one gets what there is', async () => {
    const key = freshKey();
    await store.lease(key, LIMITS, { need: { requests: 560, tokens: 0 }, want: { requests: 560, tokens: 0 }, floor: NONE, horizonMs: 0 }, T0);
    const big = await store.lease(key, LIMITS, { need: { requests: 20, tokens: 0 }, want: { requests: 20, tokens: 0 }, floor: NONE, horizonMs: 0 }, T0);
    expect(big).toMatchObject({ granted: false, retryAfterMs: 1_000 });
    const small = await store.lease(key, LIMITS, { need: { requests: 1, tokens: 0 }, want: { requests: 20, tokens: 0 }, floor: NONE, horizonMs: 0 }, T0);
    expect(small).toMatchObject({ granted: true, amounts: { requests: 10, tokens: 0 } });
  });

  it('leaves the interactive reserve to live work: a bulk lease stops above it, an interactive one may take it', async () => {
    const key = freshKey();
    const reserve = 570 * INTERACTIVE_RESERVE;
    const bulk = { need: { requests: 1, tokens: 10 }, want: { requests: 10_000, tokens: 1e9 }, floor: { requests: reserve, tokens: 57_000 * INTERACTIVE_RESERVE }, horizonMs: 0 };
    const first = await store.lease(key, LIMITS, bulk, T0);
    expect(first.amounts.requests).toBeCloseTo(570 - reserve, 6);
    const refused = await store.lease(key, LIMITS, bulk, T0);
    expect(refused.granted).toBe(false);
    // The bulk lease must wait for the reserve plus its request: 0.1 s of refill.
    expect(refused.retryAfterMs).toBe(100);

    const live = await store.lease(key, LIMITS, { need: { requests: 1, tokens: 500 }, want: { requests: 1, tokens: 500 }, floor: NONE, horizonMs: 0 }, T0);
    expect(live).toMatchObject({ granted: true, amounts: { requests: 1, tokens: 500 } });
    expect(live.balance.requests).toBeCloseTo(reserve - 1, 6);
  });

  it('books ahead within the horizon: a grant starts once the refill has paid for it, and nothing is granted beyond', async () => {
    const key = freshKey();
    const requests = (need: number, want: number) => ({ need: { requests: need, tokens: 0 }, want: { requests: want, tokens: 0 }, floor: NONE, horizonMs: 1_000 });
    await store.lease(key, LIMITS, { ...requests(570, 570), horizonMs: 0 }, T0);
    // Empty: 5 requests are 0.5 s of refill away; the next 5 (of the 10 wanted) fill the horizon of 1 s.
    expect(await store.lease(key, LIMITS, requests(5, 5), T0)).toMatchObject({ granted: true, amounts: { requests: 5 }, startsInMs: 500, balance: { requests: -5 } });
    expect(await store.lease(key, LIMITS, requests(5, 10), T0)).toMatchObject({ granted: true, amounts: { requests: 5 }, startsInMs: 1_000 });
    // Booked a full second ahead: one more request would start 1.1 s from now, 0.1 s beyond the horizon.
    expect(await store.lease(key, LIMITS, requests(1, 1), T0)).toMatchObject({ granted: false, retryAfterMs: 100 });
    expect((await store.peek(key, LIMITS, at(1_100)))!.requests).toBeCloseTo(1, 6);
  });

  it('a block (429 Retry-After) refuses every lease until it ends, keeps the later end, and can be lifted', async () => {
    const key = freshKey();
    const one = { need: { requests: 1, tokens: 1 }, want: { requests: 1, tokens: 1 }, floor: NONE, horizonMs: 0 };
    await store.block(key, LIMITS, 5_000, T0);
    await store.block(key, LIMITS, 2_000, T0);
    expect(await store.lease(key, LIMITS, one, at(1_000))).toMatchObject({ granted: false, blockedMs: 4_000, retryAfterMs: 4_000 });
    expect(await store.lease(key, LIMITS, one, at(5_000))).toMatchObject({ granted: true });

    await store.block(key, LIMITS, 60_000, at(6_000));
    await store.clearBlock(key);
    expect(await store.lease(key, LIMITS, one, at(6_000))).toMatchObject({ granted: true });
  });

  it('drains only the dimension the provider reported exhausted; the other keeps its balance and refill', async () => {
    const key = freshKey();
    await store.lease(key, LIMITS, { need: { requests: 100, tokens: 1_000 }, want: { requests: 100, tokens: 1_000 }, floor: NONE, horizonMs: 0 }, T0);
    await store.drain(key, LIMITS, { requests: false, tokens: true }, at(1_000));
    expect(await store.peek(key, LIMITS, at(1_000))).toEqual({ requests: 480, tokens: 0, blockedMs: 0 });
    expect(await store.peek(key, LIMITS, at(3_000))).toEqual({ requests: 500, tokens: 2_000, blockedMs: 0 });
  });

  it('takes back unused capacity, never above the capacity', async () => {
    const key = freshKey();
    await store.lease(key, LIMITS, { need: { requests: 300, tokens: 0 }, want: { requests: 300, tokens: 0 }, floor: NONE, horizonMs: 0 }, T0);
    await store.giveBack(key, LIMITS, { requests: 100, tokens: 0 });
    expect((await store.peek(key, LIMITS, T0))!.requests).toBe(370);
    await store.giveBack(key, LIMITS, { requests: 1_000, tokens: 1e9 });
    expect(await store.peek(key, LIMITS, T0)).toEqual({ requests: 570, tokens: 57_000, blockedMs: 0 });
  });

  it('keeps one bucket per account: a second API key of the same model has its own', async () => {
    const key = freshKey();
    const all = { need: { requests: 1, tokens: 0 }, want: { requests: 10_000, tokens: 0 }, floor: NONE, horizonMs: 0 };
    await store.lease(key, LIMITS, all, T0);
    expect((await store.lease({ ...key, account: `${key.account}-other` }, LIMITS, all, T0)).amounts.requests).toBe(570);
  });

  it('never grants more than the bucket holds when eight connections lease at once', async () => {
    const key = freshKey();
    const pool = new Pool({ connectionString: getUrl(), max: 8 });
    pool.on('error', () => undefined);
    try {
      const concurrent = new ProviderCapacityStore({ query: (sql: string, params?: unknown[]) => pool.query(sql, params).then((r) => r.rows) });
      // The clock stands still, so there is no refill: exactly 570 one-request leases can succeed.
      const results = await Promise.all(
        Array.from({ length: 8 }, async () => {
          let granted = 0;
          for (let i = 0; i < 90; i++) {
            const result = await concurrent.lease(key, LIMITS, { need: { requests: 1, tokens: 0 }, want: { requests: 1, tokens: 0 }, floor: NONE, horizonMs: 0 }, T0);
            if (result.granted) granted += result.amounts.requests;
          }
          return granted;
        }),
      );
      expect(results.reduce((sum, n) => sum + n, 0)).toBe(570);
      expect((await store.peek(key, LIMITS, T0))!.requests).toBe(0);
    } finally {
      await pool.end();
    }
  });

  describe('two limiters leasing from one bucket, as two instances', () => {
    /** 60 requests per minute: the shared bucket holds 57, of which 5.7 are the interactive reserve. */
    const RPM = { requestsPerMinute: 60 };

    function instance(key: ProviderCapacityKey): { limiter: ProviderRateLimiter; leases: ProviderCapacityLeases } {
      const leases = new ProviderCapacityLeases(new ProviderCapacityStore(dataSource), key, RPM);
      return { limiter: new ProviderRateLimiter(RPM, leases), leases };
    }

    it('together they release no more than the shared bucket allows, and a live request still passes the backfills', async () => {
      const key = freshKey();
      const a = instance(key);
      const b = instance(key);
      const started = Date.now();
      const released: string[] = [];
      const abort = new AbortController();
      // One signal for all 160 waiting callers ends the run; Node would warn about that many listeners.
      setMaxListeners(200, abort.signal);
      // Both backfill with many more requests than the bucket holds.
      const backfills = [a, b].flatMap(({ limiter }, n) =>
        Array.from({ length: 80 }, () =>
          limiter.acquire(1, abort.signal, 'bulk').then(
            () => void released.push(`bulk-${n}`),
            () => undefined,
          ),
        ),
      );
      // Wait until the backfills have taken everything above the reserve (51 of the 57).
      while (released.length < 51) await new Promise((done) => setTimeout(done, 10));
      const bulkBeforeLive = released.length;
      await b.limiter.acquire(1, undefined, 'interactive');
      released.push('live');
      const bulkAfterLive = released.filter((r) => r.startsWith('bulk')).length - bulkBeforeLive;
      abort.abort(new Error('test over'));
      await Promise.all(backfills);
      const elapsedMs = Date.now() - started;
      await Promise.all([a.leases.close(), b.leases.close()]);
      const bulk = released.filter((r) => r.startsWith('bulk')).length;

      // The live request came out of the reserve: no backfill request had to be released before it.
      expect(bulkAfterLive).toBeLessThanOrEqual(1);
      // Everything both instances released fits the one bucket: its 57 plus the refill of the time it took.
      expect(bulk + 1).toBeLessThanOrEqual(57 + Math.ceil(elapsedMs / 1_000));
      // One lease serves every caller waiting at the time: far fewer round trips than requests released.
      const leases = a.leases.stats.leases + b.leases.stats.leases - a.leases.stats.denied - b.leases.stats.denied;
      expect(leases).toBeLessThan(bulk / 4);
    });

    it("one instance's back-off (a 429) holds the other back until it is lifted", async () => {
      const key = freshKey();
      const a = instance(key);
      const b = instance(key);
      a.limiter.backOff(60_000);
      // The shared block is written in the background; the lease sees it once it is there.
      while (!(await store.peek(key, { ...LIMITS, requestsPerMinute: 60 }))?.blockedMs) await new Promise((done) => setTimeout(done, 10));
      let passed = false;
      const waiting = b.limiter.acquire(1).then(() => (passed = true));
      // The first lease of b is refused with the block's end.
      while (b.leases.stats.denied === 0) await new Promise((done) => setTimeout(done, 10));
      expect(passed).toBe(false);
      a.limiter.clearBackOff();
      await waiting;
      expect(passed).toBe(true);
      await Promise.all([a.leases.close(), b.leases.close()]);
    });
  });
});
