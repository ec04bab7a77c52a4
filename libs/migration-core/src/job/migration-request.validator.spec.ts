import type { EntityIdKind } from '@ai-infrastructure/core/internal';
import { InvalidMigrationRequestError, UnknownEntityTypeError } from '../migration.errors';
import { MIGRATION_REQUEST_LIMITS } from './migration-request.limits';
import {
  normalizeEntityIds,
  validateActor,
  validateEntityIdList,
  validateJobFilter,
  validateJobQuery,
  validateMigrationRequest,
  validatePauseReason,
  validateRateLimit,
  validateStatus,
  type MigrationRequestContext,
} from './migration-request.validator';
import { MigrationStatus } from './migration-status.enum';

const UUID = '3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10';

/** product: uuid keys with a creation date; tag: integer keys without one; note: text keys. */
const ID_KINDS: Record<string, EntityIdKind> = { product: 'uuid', tag: 'integer', note: 'text' };
const context: MigrationRequestContext = {
  entityTypes: () => Object.keys(ID_KINDS),
  idKind: (type) => ID_KINDS[type],
  hasCreatedDate: (type) => type === 'product',
};
const defaults = { batchSize: 500, rateLimit: 100 };

/** The error `fn` throws, for assertions on its class, message and field. */
function thrown(fn: () => unknown): Error & { field?: string } {
  try {
    fn();
  } catch (error) {
    return error as Error & { field?: string };
  }
  throw new Error('expected an error, none was thrown');
}

describe('validateMigrationRequest', () => {
  it('takes mode "batch" without a rate limit, and names the field when the mode or its combination is wrong', () => {
    expect(validateMigrationRequest({ entityType: 'product', mode: 'batch' }, defaults, context).mode).toBe('batch');
    expect(() => validateMigrationRequest({ entityType: 'product', mode: 'bulk' as never }, defaults, context)).toThrow(/"mode" is "bulk"; use "sync" or "batch"/);
    expect(() => validateMigrationRequest({ entityType: 'product', mode: 'batch', rateLimit: 60 }, defaults, context)).toThrow(/"rateLimit" does not apply to mode "batch"/);
    const noBatches = { ...context, batchProvider: () => ({ name: 'hashing', supported: false }) };
    expect(() => validateMigrationRequest({ entityType: 'product', mode: 'batch' }, defaults, noBatches)).toThrow(/provider "hashing" has no Batch API; use mode "sync"/);
  });

  it('fills in the module defaults and no filters', () => {
    expect(validateMigrationRequest({ entityType: 'product' }, defaults, context)).toEqual({
      entityType: 'product',
      batchSize: 500,
      rateLimit: 100,
      mode: 'sync',
      reindexExisting: false,
      filters: undefined,
      maxTokens: null,
      maxCost: null,
    });
  });

  it('keeps what the request gives, with ids in their canonical form', () => {
    const upper = UUID.toUpperCase();
    const validated = validateMigrationRequest(
      { entityType: 'product', batchSize: 5000, rateLimit: 1, reindexExisting: true, filters: { createdBefore: '2024-01-01', ids: [upper] } },
      defaults,
      context,
    );
    expect(validated).toEqual({
      entityType: 'product',
      batchSize: 5000,
      rateLimit: 1,
      mode: 'sync',
      reindexExisting: true,
      filters: { createdBefore: '2024-01-01', ids: [UUID] },
      maxTokens: null,
      maxCost: null,
    });
  });

  it('takes budgets, and names the field for one that is not a limit', () => {
    expect(validateMigrationRequest({ entityType: 'product', maxTokens: 5000, maxCost: 0.25 }, defaults, context)).toMatchObject({ maxTokens: 5000, maxCost: 0.25 });
    for (const maxTokens of [0, 1.5, '7', Number.NaN]) {
      expect(thrown(() => validateMigrationRequest({ entityType: 'product', maxTokens: maxTokens as never }, defaults, context))).toMatchObject({
        field: 'maxTokens',
        message: expect.stringContaining('use a whole number of tokens'),
      });
    }
    for (const maxCost of [0, -1, Number.POSITIVE_INFINITY, '1']) {
      expect(thrown(() => validateMigrationRequest({ entityType: 'product', maxCost: maxCost as never }, defaults, context))).toMatchObject({
        field: 'maxCost',
        message: expect.stringContaining('use an amount in USD above 0'),
      });
    }
  });

  it('empty filters mean the whole table: stored as none, so a whole-table build loads its generation', () => {
    expect(validateMigrationRequest({ entityType: 'product', filters: {} }, defaults, context).filters).toBeUndefined();
  });

  it('takes a generation id, and names the field for one that cannot be an id', () => {
    expect(validateMigrationRequest({ entityType: 'product', generationId: 7 }, defaults, context).generationId).toBe(7);
    for (const generationId of [0, 1.5, 2_147_483_648, '7']) {
      expect(thrown(() => validateMigrationRequest({ entityType: 'product', generationId: generationId as never }, defaults, context))).toMatchObject({
        field: 'generationId',
        message: expect.stringContaining('use the id of an index generation'),
      });
    }
  });

  it('requires an entity type and names the known ones for an unknown type', () => {
    expect(thrown(() => validateMigrationRequest({} as never, defaults, context))).toMatchObject({
      constructor: InvalidMigrationRequestError,
      field: 'entityType',
      message: '"entityType" is required: the entity type to migrate, e.g. "product".',
    });
    const unknown = thrown(() => validateMigrationRequest({ entityType: 'prodct' }, defaults, context));
    expect(unknown).toBeInstanceOf(UnknownEntityTypeError);
    expect(unknown.message).toBe('Unknown entity type "prodct"; known types: product, tag, note.');
  });

  it.each([
    [{ batchSize: 0 }, 'batchSize', `"batchSize" is 0; use an integer from 1 to ${MIGRATION_REQUEST_LIMITS.batchSize.max}.`],
    [{ batchSize: 5001 }, 'batchSize', '"batchSize" is 5001; use an integer from 1 to 5000.'],
    [{ batchSize: 1.5 }, 'batchSize', '"batchSize" is 1.5; use an integer from 1 to 5000.'],
    [{ batchSize: '10' }, 'batchSize', '"batchSize" is "10"; use an integer from 1 to 5000.'],
    [{ rateLimit: 0 }, 'rateLimit', '"rateLimit" is 0; use an integer number of requests per minute from 1 to 1000000.'],
    [{ rateLimit: 1_000_001 }, 'rateLimit', '"rateLimit" is 1000001; use an integer number of requests per minute from 1 to 1000000.'],
    [{ reindexExisting: 'yes' }, 'reindexExisting', '"reindexExisting" is "yes"; use true or false.'],
  ])('rejects %j naming the field and the allowed values', (fields, field, message) => {
    const error = thrown(() => validateMigrationRequest({ entityType: 'product', ...(fields as object) }, defaults, context));
    expect(error).toBeInstanceOf(InvalidMigrationRequestError);
    expect(error).toMatchObject({ field, message });
  });

  describe('filters', () => {
    const start = (filters: unknown, entityType = 'product') => () => validateMigrationRequest({ entityType, filters: filters as never }, defaults, context);

    it('accepts dates and date-times, and keeps only the filters given', () => {
      expect(start({ createdAfter: '2024-01-01T10:00:00Z' })().filters).toEqual({ createdAfter: '2024-01-01T10:00:00Z' });
      expect(start({})().filters).toBeUndefined();
    });

    it.each(['2024-13-45', '01/02/2024', '2024-W01-1', '', 20240101])('rejects the date %j', (date) => {
      expect(thrown(start({ createdBefore: date }))).toMatchObject({
        field: 'filters.createdBefore',
        message: `"filters.createdBefore" is ${JSON.stringify(date)}; use an ISO-8601 date such as "2024-01-01".`,
      });
    });

    it('rejects a filter it does not know, a filters value that is not an object, and date filters on an entity without a creation date', () => {
      expect(thrown(start({ updatedAfter: '2024-01-01' }))).toMatchObject({
        field: 'filters.updatedAfter',
        message: '"filters.updatedAfter" is not a filter; use createdBefore, createdAfter, ids.',
      });
      expect(thrown(start(['ids']))).toMatchObject({ field: 'filters' });
      expect(thrown(start('ids'))).toMatchObject({ field: 'filters' });
      expect(thrown(start({ createdBefore: '2024-01-01' }, 'tag')).message).toBe(
        '"filters.createdBefore/createdAfter" need a @CreateDateColumn on the entity of "tag"; filter by ids instead.',
      );
    });

    it('takes 1 to 10,000 ids, each a valid key of the entity type', () => {
      const max = MIGRATION_REQUEST_LIMITS.entityIds.maxItems;
      expect(start({ ids: Array.from({ length: max }, () => UUID) })().filters?.ids).toHaveLength(max);
      for (const ids of [[], Array.from({ length: max + 1 }, () => UUID), 'abc']) {
        expect(thrown(start({ ids }))).toMatchObject({ field: 'filters.ids', message: '"filters.ids" must be a list of 1 to 10000 entity ids.' });
      }
      expect(thrown(start({ ids: [UUID, 'not-a-uuid'] }))).toMatchObject({
        field: 'filters.ids[1]',
        message: '"filters.ids[1]" is "not-a-uuid"; ids of "product" are a uuid of at most 255 characters (the entity\'s primary key).',
      });
      expect(start({ ids: ['007', 42] }, 'tag')().filters?.ids).toEqual(['7', '42']);
    });
  });

  it('names the field of text PostgreSQL cannot store instead of failing in SQL', () => {
    const error = thrown(() => validateMigrationRequest({ entityType: 'note', filters: { ids: ['ok', 'a\u0000b'] } }, defaults, context));
    expect(error).toBeInstanceOf(InvalidMigrationRequestError);
    expect(error.field).toBe('filters.ids[1]');
    expect(error.message).toMatch(/^"filters\.ids\[1\]" contains a NUL character \(U\+0000\) at position 1, which PostgreSQL cannot store; remove it\.$/);
    expect(thrown(() => validateMigrationRequest({ entityType: 'note', filters: { ids: ['\uD800'] } }, defaults, context)).message).toMatch(
      /unpaired UTF-16 surrogate \(U\+D800\)/,
    );
  });
});

describe('normalizeEntityIds', () => {
  it('writes each id in the form PostgreSQL prints the key', () => {
    expect(normalizeEntityIds([UUID.toUpperCase()], 'entityIds', 'product', 'uuid')).toEqual([UUID]);
    expect(normalizeEntityIds(['-0012', 7], 'entityIds', 'tag', 'integer')).toEqual(['-12', '7']);
    expect(normalizeEntityIds(['Mixed Case'], 'entityIds', 'note', undefined)).toEqual(['Mixed Case']);
  });

  it('rejects values that are not keys of the type, naming the index', () => {
    expect(thrown(() => normalizeEntityIds(['1', '9223372036854775808'], 'entityIds', 'tag', 'integer'))).toMatchObject({
      field: 'entityIds[1]',
      message: '"entityIds[1]" is "9223372036854775808"; ids of "tag" are an integer from -2147483648 to 2147483647 (integer) of at most 255 characters (the entity\'s primary key).',
    });
    // The column's width counts: 3,000,000,000 fits a bigint key, not an integer (int4) one, where it used
    // to reach PostgreSQL and fail there ("out of range for type integer", a 500 over REST).
    expect(thrown(() => normalizeEntityIds(['3000000000'], 'entityIds', 'tag', 'integer')).field).toBe('entityIds[0]');
    expect(normalizeEntityIds(['3000000000'], 'entityIds', 'tag', 'bigint')).toEqual(['3000000000']);
    expect(thrown(() => normalizeEntityIds(['40000'], 'entityIds', 'tag', 'smallint')).field).toBe('entityIds[0]');
    expect(thrown(() => normalizeEntityIds([{ id: 1 }], 'entityIds', 'note', 'text')).field).toBe('entityIds[0]');
    expect(thrown(() => normalizeEntityIds([''], 'entityIds', 'note', 'text')).field).toBe('entityIds[0]');
    expect(thrown(() => normalizeEntityIds(['x'.repeat(256)], 'entityIds', 'note', 'text')).field).toBe('entityIds[0]');
  });
});

describe('the other request fields', () => {
  it('a retry takes no list, or 1 to 10,000 ids', () => {
    expect(() => validateEntityIdList(undefined)).not.toThrow();
    expect(() => validateEntityIdList(['a'])).not.toThrow();
    for (const ids of [[], Array.from({ length: 10_001 }, () => 'a'), 'a']) {
      expect(thrown(() => validateEntityIdList(ids))).toMatchObject({
        field: 'entityIds',
        message: '"entityIds" must be a list of 1 to 10000 entity ids, or left out to retry every failure.',
      });
    }
  });

  it('a rate limit is an integer of requests per minute within the limits', () => {
    expect(validateRateLimit(1)).toBe(1);
    expect(validateRateLimit(1_000_000)).toBe(1_000_000);
    expect(thrown(() => validateRateLimit(Number.NaN)).message).toBe(
      '"rateLimit" is NaN; use an integer number of requests per minute from 1 to 1000000.',
    );
  });

  it('an actor is absent or a storable name of 1 to 255 characters, named by its field', () => {
    expect(validateActor(undefined)).toBeUndefined();
    expect(validateActor(null)).toBeUndefined();
    expect(validateActor('ci-pipeline')).toBe('ci-pipeline');
    expect(thrown(() => validateActor(''))).toMatchObject({ field: 'actor', message: '"actor" is ""; use a name of 1 to 255 characters.' });
    expect(thrown(() => validateActor('x'.repeat(256), 'createdBy')).field).toBe('createdBy');
    expect(thrown(() => validateActor(7)).message).toBe('"actor" is 7; use a name of 1 to 255 characters.');
    expect(thrown(() => validateActor('bob\u0000')).message).toMatch(/^"actor" contains a NUL character/);
  });

  it('a pause reason is optional (an empty one is none), at most 500 characters and storable', () => {
    expect(validatePauseReason(undefined)).toBeUndefined();
    expect(validatePauseReason('')).toBeUndefined();
    expect(validatePauseReason('maintenance window')).toBe('maintenance window');
    expect(validatePauseReason('r'.repeat(500))).toHaveLength(500);
    expect(thrown(() => validatePauseReason('r'.repeat(501)))).toMatchObject({ field: 'reason' });
    expect(thrown(() => validatePauseReason(42)).message).toBe('"reason" is 42; use a text of 1 to 500 characters.');
    expect(thrown(() => validatePauseReason('x\uDFFF')).message).toMatch(/^"reason" contains an unpaired UTF-16 surrogate \(U\+DFFF\)/);
  });

  it('a status is one of the job states', () => {
    expect(validateStatus(undefined)).toBeUndefined();
    expect(validateStatus('PAUSED')).toBe(MigrationStatus.PAUSED);
    expect(thrown(() => validateStatus('paused')).message).toBe('"status" is "paused"; use one of PENDING, RUNNING, PAUSED, COMPLETED, FAILED, CANCELLED.');
  });

  it('a job list has a default page and bounded limit and offset', () => {
    expect(validateJobQuery({})).toEqual({ limit: 50, offset: 0, status: undefined, entityType: undefined });
    expect(validateJobQuery({ limit: 500, offset: 1_000_000, status: 'RUNNING', entityType: 'product' })).toEqual({
      limit: 500,
      offset: 1_000_000,
      status: 'RUNNING',
      entityType: 'product',
    });
    expect(thrown(() => validateJobQuery({ limit: 0 })).message).toBe('"limit" is 0; use an integer from 1 to 500.');
    expect(thrown(() => validateJobQuery({ limit: 501 })).field).toBe('limit');
    expect(thrown(() => validateJobQuery({ offset: -1 })).message).toBe('"offset" is -1; use an integer from 0 to 1000000.');
    expect(thrown(() => validateJobFilter({ entityType: 'prod\u0000uct' })).field).toBe('entityType');
  });
});
