import { toPageFilters } from './migration-filters';

describe('toPageFilters', () => {
  it('no filters stay no filters', () => {
    expect(toPageFilters(undefined)).toBeUndefined();
    expect(toPageFilters(null)).toBeUndefined();
  });

  it('turns the stored ISO-8601 texts into instants and passes the ids on', () => {
    expect(toPageFilters({ createdBefore: '2024-01-01', createdAfter: '2023-06-01T12:00:00+02:00', ids: ['a', 'b'] })).toEqual({
      createdBefore: new Date(Date.UTC(2024, 0, 1)),
      createdAfter: new Date(Date.UTC(2023, 5, 1, 10)),
      ids: ['a', 'b'],
    });
    expect(toPageFilters({ ids: ['a'] })).toEqual({ createdBefore: undefined, createdAfter: undefined, ids: ['a'] });
  });
});
