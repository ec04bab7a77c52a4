import { itemsPerRequest, requestPacing, secondsFor } from './migration-pacing';

describe('job pacing', () => {
  it('one provider request carries the workers batch, capped by the provider and at least one item', () => {
    expect(itemsPerRequest({ maxInputsPerRequest: 2048 }, 100)).toBe(100);
    expect(itemsPerRequest({ maxInputsPerRequest: 16 }, 100)).toBe(16);
    expect(itemsPerRequest({ maxInputsPerRequest: 0 }, 100)).toBe(1);
  });

  it('a job uses 60 / rateLimit seconds per request worth of items', () => {
    // 100 requests per minute: one request every 0.6 s, so 1000 items of 100 per request take 6 s.
    expect(secondsFor(1000, 100, 100)).toBeCloseTo(6, 10);
    expect(secondsFor(100, 100, 100)).toBeCloseTo(0.6, 10);
    // A page that is not a whole number of requests uses its share.
    expect(secondsFor(50, 100, 60)).toBeCloseTo(0.5, 10);
    expect(secondsFor(0, 100, 60)).toBe(0);
  });

  it('releases one request worth of items per interval', () => {
    expect(requestPacing(120, 10)).toEqual({ groupSize: 10, spacingSeconds: 0.5 });
    const fast = requestPacing(1_000_000, 1000);
    expect(fast.groupSize).toBe(1000);
    expect(fast.spacingSeconds).toBeCloseTo(0.00006, 12);
  });
});
