import { isIsoDate } from './iso-date';

describe('isIsoDate', () => {
  it.each(['2024-01-01', '2024-01-01T10:00', '2024-01-01T10:00:00', '2024-01-01T10:00:00.123456Z', '2024-01-01T10:00:00+05:30'])(
    'accepts %s',
    (value) => expect(isIsoDate(value)).toBe(true),
  );

  // ISO-8601 forms JavaScript reads differently from PostgreSQL or not at all, and non-dates.
  it.each(['2024-W01-1', '2024-001', '+002024-01-01', '2024-13-01', '2024-01-01 10:00', '01/01/2024', '', 20240101, null])(
    'rejects %j',
    (value) => expect(isIsoDate(value)).toBe(false),
  );
});
