import { isoDurationSeconds } from './migration.metrics';

describe('isoDurationSeconds', () => {
  it.each([
    ['PT0S', 0],
    ['PT45S', 45],
    ['PT1M13S', 73],
    ['PT2H', 7200],
    ['PT1H2M3.5S', 3723.5],
  ])('reads %s as %d seconds', (duration, seconds) => {
    expect(isoDurationSeconds(duration)).toBe(seconds);
  });

  it.each([[null], [''], ['P1D'], ['45 s']])('answers null for %p', (duration) => {
    expect(isoDurationSeconds(duration)).toBeNull();
  });
});
