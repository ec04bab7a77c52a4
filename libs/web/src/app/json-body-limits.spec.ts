import { MAX_JSON_DEPTH, rejectProtoKeys, verifyJsonDepth } from './json-body-limits';

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
