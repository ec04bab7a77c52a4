import { count, duration, fields, isoDurationSeconds, seconds, table, usd } from './cli.format';

describe('ai-migrate text formatting', () => {
  it('reads the ISO 8601 durations the API writes, and nothing else', () => {
    expect(isoDurationSeconds('PT1H2M3.5S')).toBe(3723.5);
    expect(isoDurationSeconds('P1DT2H')).toBe(93_600);
    expect(isoDurationSeconds('PT0S')).toBe(0);
    expect(isoDurationSeconds('1 hour')).toBeUndefined();
    expect(isoDurationSeconds(null)).toBeUndefined();
  });

  it('writes durations as the two largest units, counts grouped and dollars with cents or tenths of cents', () => {
    expect(seconds(0)).toBe('0s');
    expect(seconds(65)).toBe('1m 5s');
    expect(seconds(3 * 3600 + 61)).toBe('3h 1m');
    expect(seconds(2 * 86_400 + 5)).toBe('2d 5s');
    expect(duration('PT90S')).toBe('1m 30s');
    expect(duration(null)).toBe('-');
    expect(count(1234567)).toBe('1,234,567');
    expect(usd(0.0123)).toBe('$0.0123');
    expect(usd(25)).toBe('$25.00');
  });

  it('aligns table columns and labelled fields, leaving out undefined fields', () => {
    expect(table(['ID', 'STATUS'], [['a', 'RUNNING'], ['bbb', null]])).toBe('ID   STATUS\na    RUNNING\nbbb  -');
    expect(fields([['Job', 'x'], ['Completed', undefined], ['Error', null]])).toBe('Job    x\nError  -');
  });
});
