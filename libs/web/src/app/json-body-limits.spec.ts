import { MIGRATION_REQUEST_LIMITS } from '@ai-infrastructure/migration-core';
import { idListJsonBodyLimit, isIdListRoute, JSON_BODY_LIMIT, MAX_JSON_DEPTH, rejectProtoKeys, verifyJsonDepth } from './json-body-limits';

describe('verifyJsonDepth', () => {
  const check = (text: string) => () => verifyJsonDepth(undefined, undefined, Buffer.from(text));

  it('accepts bodies up to the limit, and brackets inside strings do not count', () => {
    expect(check(`${'['.repeat(MAX_JSON_DEPTH)}${']'.repeat(MAX_JSON_DEPTH)}`)).not.toThrow();
    expect(check(JSON.stringify({ entityType: 'product', note: '[[[[{{{{'.repeat(100), escaped: '\\"[[[' }))).not.toThrow();
  });

  it('rejects deeper nesting with a 400 that says why', () => {
    expect(check(`${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`)).toThrow(
      expect.objectContaining({ status: 400, type: 'entity.too.deep', message: `The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels` }),
    );
  });
});

describe('rejectProtoKeys', () => {
  it('rejects __proto__ and constructor keys at any depth and keeps everything else', () => {
    expect(() => JSON.parse('{"a":{"__proto__":{"x":1}}}', rejectProtoKeys)).toThrow('The key "__proto__" is not allowed in a JSON body');
    expect(() => JSON.parse('{"constructor":{"x":1}}', rejectProtoKeys)).toThrow('The key "constructor" is not allowed in a JSON body');
    expect(JSON.parse('{"proto":2,"prototype":3}', rejectProtoKeys)).toEqual({ proto: 2, prototype: 3 });
  });
});

describe('isIdListRoute and the body limits', () => {
  it('gives the larger limit to the POST routes that take entity ids, behind any global prefix and with a query', () => {
    for (const url of ['/api/ai/migration/start', '/api/ai/migration/estimate?x=1', '/v1/api/ai/migration/jobs/abc/retry-failed', '/api/ai/migration/start/']) {
      expect(isIdListRoute({ method: 'POST', url })).toBe(true);
    }
  });

  it('keeps the default limit everywhere else', () => {
    expect(isIdListRoute({ method: 'PATCH', url: '/api/ai/migration/start' })).toBe(false);
    for (const url of ['/api/ai/migration/jobs/abc/pause', '/api/ai/migration/jobs/abc', '/products', '/api/ai/migration/start/x', '/x?/api/ai/migration/start', undefined]) {
      expect(isIdListRoute({ method: 'POST', url })).toBe(false);
    }
  });

  it('fits the most ids of the longest length, each character 3 bytes in UTF-8, in the larger limit', () => {
    const longest = JSON.stringify({ entityType: 'a'.repeat(100), filters: { ids: Array.from({ length: MIGRATION_REQUEST_LIMITS.entityIds.maxItems }, () => '€'.repeat(MIGRATION_REQUEST_LIMITS.entityIds.maxLength)) } });
    expect(Buffer.byteLength(longest)).toBeLessThanOrEqual(idListJsonBodyLimit(MIGRATION_REQUEST_LIMITS.entityIds));
    expect(JSON_BODY_LIMIT).toBe(100 * 1024);
  });
});
