import { assertStorableText, findUnstorableText, isStorableText, unstorableTextMessage } from './storable-text';

describe('isStorableText', () => {
  it('accepts any well-formed text, astral characters (surrogate pairs) included', () => {
    for (const text of ['', 'plain', 'é€漢字', '😀🏳️‍🌈', '\u0001\u001f\u007f', '%00', '\\u0000', '\uFFFD', '\uD83D\uDE00']) expect(isStorableText(text)).toBe(true);
  });

  it('refuses NUL anywhere and unpaired surrogates, high or low, alone, at either end or reversed', () => {
    for (const text of ['\u0000', 'a\u0000', '\u0000a', '\uD800', 'a\uD800', '\uDBFFb', '\uDC00', 'x\uDFFF', '\uDE00\uD83D', '😀\uD83D']) {
      expect(isStorableText(text)).toBe(false);
    }
  });
});

describe('findUnstorableText', () => {
  it('finds nothing in storable values and ignores what is not text', () => {
    expect(findUnstorableText('fine')).toBeUndefined();
    expect(findUnstorableText({ a: ['x', 1, null, true, { b: 'y' }], c: new Date(0), d: undefined })).toBeUndefined();
    for (const value of [undefined, null, 0, 1.5, false, Symbol('s')]) expect(findUnstorableText(value)).toBeUndefined();
  });

  it('locates the code unit in a string', () => {
    expect(findUnstorableText('abc\u0000')).toEqual({ path: '', problem: 'nul', codeUnit: 0, index: 3 });
    expect(findUnstorableText('ab\uD800c')).toEqual({ path: '', problem: 'loneSurrogate', codeUnit: 0xd800, index: 2 });
    expect(findUnstorableText('😀\uDC00')).toEqual({ path: '', problem: 'loneSurrogate', codeUnit: 0xdc00, index: 2 });
  });

  it('gives the path through objects and arrays, and reports the first offender in document order', () => {
    expect(findUnstorableText({ category: 'x', tags: ['ok', 'b\u0000', '\uD800'] })).toEqual({ path: '.tags[1]', problem: 'nul', codeUnit: 0, index: 1 });
    expect(findUnstorableText([{ 'odd key': [{ deep: '\uDFFF' }] }])).toEqual({ path: '[0]["odd key"][0].deep', problem: 'loneSurrogate', codeUnit: 0xdfff, index: 0 });
  });

  it('checks object keys, not only values', () => {
    expect(findUnstorableText({ nested: { 'a\u0000': 'value' } })).toEqual({ path: '.nested', key: 'a\u0000', problem: 'nul', codeUnit: 0, index: 1 });
  });

  it('walks very deep values without overflowing the stack, and stops at cycles', () => {
    let deep: unknown = '\u0000';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(findUnstorableText(deep)).toEqual(expect.objectContaining({ problem: 'nul' }));
    const cyclic: Record<string, unknown> = { name: 'x' };
    cyclic.self = cyclic;
    expect(findUnstorableText(cyclic)).toBeUndefined();
  });
});

describe('unstorableTextMessage and assertStorableText', () => {
  it('says where, what and what to do', () => {
    expect(unstorableTextMessage('reason', findUnstorableText('abc\u0000')!)).toBe(
      'reason contains a NUL character (U+0000) at position 3, which PostgreSQL cannot store; remove it',
    );
    expect(unstorableTextMessage('filter', findUnstorableText({ category: '\uD800' })!, { quote: true })).toBe(
      '"filter.category" contains an unpaired UTF-16 surrogate (U+D800) at position 0, which PostgreSQL cannot store; ' +
        'send well-formed Unicode text (a surrogate only as half of a pair)',
    );
    expect(unstorableTextMessage('filter', findUnstorableText({ '\u0000': 1 })!)).toBe(
      'filter has a key "\\u0000" that contains a NUL character (U+0000) at position 0, which PostgreSQL cannot store; remove it',
    );
  });

  it('throws the caller\'s error type with the sentence, and nothing for storable values', () => {
    class RequestError extends Error {}
    expect(() => assertStorableText({ ids: ['1', '2'] }, 'filters')).not.toThrow();
    expect(() => assertStorableText(['x\u0000'], 'ids', { toError: (message) => new RequestError(message) })).toThrow(
      new RequestError('ids[0] contains a NUL character (U+0000) at position 1, which PostgreSQL cannot store; remove it.'),
    );
    expect(() => assertStorableText('\uDC00', 'query')).toThrow(/^query contains an unpaired UTF-16 surrogate \(U\+DC00\)/);
  });
});
