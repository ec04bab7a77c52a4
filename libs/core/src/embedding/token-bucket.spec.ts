import { TokenBucket } from './token-bucket';

describe('TokenBucket', () => {
  const t0 = 1_000_000;

  it('never makes anyone wait when the rate is 0 or undefined', () => {
    for (const rate of [0, undefined]) {
      const bucket = new TokenBucket(rate, { now: t0 });
      expect(bucket.unlimited).toBe(true);
      expect(bucket.capacity).toBe(Infinity);
      for (let i = 0; i < 1000; i++) expect(bucket.reserve(1_000_000, t0)).toBe(0);
    }
  });

  it('rejects a negative rate with a sentence naming the value', () => {
    expect(() => new TokenBucket(-5)).toThrow(/rate -5 per minute is invalid/);
  });

  it('starts full with one minute of capacity and then paces at the rate', () => {
    const bucket = new TokenBucket(60, { now: t0 }); // one per second
    for (let i = 0; i < 60; i++) expect(bucket.reserve(1, t0)).toBe(0);
    expect(bucket.reserve(1, t0)).toBe(1000);
  });

  it('queues concurrent callers fairly by letting the balance go negative', () => {
    const bucket = new TokenBucket(60, { capacity: 1, now: t0 });
    const waits = [0, 1, 2, 3].map(() => bucket.reserve(1, t0));
    expect(waits).toEqual([0, 1000, 2000, 3000]);
    expect(bucket.available(t0)).toBe(-3);
    // Time passing pays the debt back at the rate.
    expect(bucket.available(t0 + 3000)).toBe(0);
    expect(bucket.reserve(1, t0 + 3000)).toBe(1000);
  });

  it('refills continuously but never above capacity', () => {
    const bucket = new TokenBucket(600, { capacity: 10, now: t0 }); // 10 per second
    expect(bucket.reserve(10, t0)).toBe(0);
    expect(bucket.available(t0 + 500)).toBeCloseTo(5);
    expect(bucket.available(t0 + 60_000)).toBe(10);
  });

  it('timeUntil answers without reserving', () => {
    const bucket = new TokenBucket(60, { capacity: 1, now: t0 });
    bucket.reserve(1, t0);
    expect(bucket.timeUntil(1, t0)).toBe(1000);
    expect(bucket.timeUntil(1, t0)).toBe(1000);
    expect(bucket.timeUntil(1, t0 + 1000)).toBe(0);
  });

  it('lets a request bigger than the capacity pass once the bucket is full', () => {
    const bucket = new TokenBucket(6000, { now: t0 }); // capacity 6000, 100 per second
    expect(bucket.reserve(50_000, t0)).toBe(0);
    // The oversized reservation took the whole capacity, so the next one waits for a full refill, not for 50,000.
    expect(bucket.reserve(50_000, t0)).toBe(60_000);
    expect(bucket.timeUntil(50_000, t0 + 120_000)).toBe(0);
  });

  it('applies a new rate immediately', () => {
    const bucket = new TokenBucket(60, { capacity: 1, now: t0 });
    bucket.reserve(1, t0);
    expect(bucket.timeUntil(1, t0)).toBe(1000);
    bucket.setRatePerMinute(6, t0);
    expect(bucket.timeUntil(1, t0)).toBe(10_000);
    bucket.setRatePerMinute(0, t0);
    expect(bucket.timeUntil(1, t0)).toBe(0);
    // Becoming limited again starts full.
    bucket.setRatePerMinute(120, t0);
    expect(bucket.capacity).toBe(1);
    expect(bucket.reserve(1, t0)).toBe(0);
  });

  it('burstMs sizes the capacity in ms of refill and follows rate changes', () => {
    const bucket = new TokenBucket(600, { burstMs: 59_000, now: t0 });
    expect(bucket.capacity).toBe(590);
    bucket.setRatePerMinute(60, t0);
    expect(bucket.capacity).toBe(59);
    expect(bucket.available(t0)).toBe(59);
  });

  it('cuts the balance to a lower default capacity when the rate drops', () => {
    const bucket = new TokenBucket(100, { now: t0 });
    bucket.setRatePerMinute(10, t0);
    expect(bucket.capacity).toBe(10);
    expect(bucket.available(t0)).toBe(10);
  });

  it('drain empties the bucket and refills only after the given instant', () => {
    const bucket = new TokenBucket(60, { now: t0 });
    expect(bucket.available(t0)).toBe(60);
    bucket.drain(t0 + 5000, t0);
    expect(bucket.available(t0 + 4000)).toBe(0);
    expect(bucket.timeUntil(1, t0)).toBe(6000);
    expect(bucket.timeUntil(1, t0 + 6000)).toBe(0);
  });

  it('drain keeps queued reservations in their place', () => {
    const bucket = new TokenBucket(60, { capacity: 1, now: t0 });
    bucket.reserve(1, t0);
    bucket.reserve(1, t0); // balance -1
    bucket.drain(t0, t0);
    expect(bucket.available(t0)).toBe(-1);
  });

  it('blockUntil holds everything until the instant while the balance keeps refilling', () => {
    const bucket = new TokenBucket(60, { capacity: 5, now: t0 });
    bucket.reserve(5, t0);
    bucket.blockUntil(t0 + 10_000);
    bucket.blockUntil(t0 + 2000); // an earlier end never shortens a block
    expect(bucket.timeUntil(1, t0)).toBe(10_000);
    expect(bucket.timeUntil(5, t0 + 10_000)).toBe(0);
  });

  it('blockUntil and drain also hold an unlimited bucket', () => {
    const bucket = new TokenBucket(undefined, { now: t0 });
    bucket.blockUntil(t0 + 300);
    expect(bucket.reserve(1, t0)).toBe(300);
    bucket.drain(t0 + 700, t0);
    expect(bucket.reserve(1, t0 + 300)).toBe(400);
    expect(bucket.reserve(1, t0 + 700)).toBe(0);
  });
});
