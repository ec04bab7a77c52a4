import { InvalidMigrationRequestError } from '../migration.errors';
import { validateFindingsQuery, validateFix } from './migration-verify.validator';

describe('verification request validation', () => {
  it('takes fix as a boolean, absent meaning report only', () => {
    expect(validateFix(undefined)).toBe(false);
    expect(validateFix(true)).toBe(true);
    expect(() => validateFix('yes')).toThrow(new InvalidMigrationRequestError('"fix" is "yes"; use true (re-queue missing and stale entities, delete orphaned vectors) or false (report only).'));
  });

  it('fills the findings query defaults and names the field of a bad value', () => {
    expect(validateFindingsQuery()).toEqual({ kind: undefined, limit: 100, offset: 0 });
    expect(validateFindingsQuery({ kind: 'ORPHANED', limit: 1000, offset: 20 })).toEqual({ kind: 'ORPHANED', limit: 1000, offset: 20 });
    expect(() => validateFindingsQuery({ kind: 'LOST' as never })).toThrow(/"kind" is "LOST"; use one of MISSING, STALE, ORPHANED, FOREIGN/);
    expect(() => validateFindingsQuery({ limit: 1001 })).toThrow(/"limit" is 1001; use an integer from 1 to 1000/);
    expect(() => validateFindingsQuery({ offset: -1 })).toThrow(/"offset" is -1/);
    const thrown = (() => {
      try {
        validateFindingsQuery({ limit: 1.5 });
      } catch (error) {
        return error;
      }
    })();
    expect(thrown).toBeInstanceOf(InvalidMigrationRequestError);
    expect(thrown).toMatchObject({ field: 'limit' });
  });
});
