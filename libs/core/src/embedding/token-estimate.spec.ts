import { estimateTokens, truncateToTokens } from './token-estimate';

describe('estimateTokens', () => {
  it('is ceil(utf8 bytes / 3), at least 1 for non-empty text', () => {
    expect(estimateTokens('')).toBe(0);
    expect(estimateTokens('a')).toBe(1);
    expect(estimateTokens('abc')).toBe(1);
    expect(estimateTokens('abcd')).toBe(2);
    expect(estimateTokens('é')).toBe(1); // 2 bytes
    expect(estimateTokens('🎉🎉🎉')).toBe(4); // 12 bytes
  });
});

describe('truncateToTokens', () => {
  it('returns text that already fits unchanged', () => {
    const text = 'fits easily';
    expect(truncateToTokens(text, 100)).toBe(text);
  });

  it('keeps the longest prefix whose estimate fits', () => {
    const cut = truncateToTokens('x'.repeat(100), 10);
    expect(cut).toBe('x'.repeat(30));
    expect(estimateTokens(cut)).toBe(10);
  });

  it('never splits a surrogate pair or a multi-byte character', () => {
    // 4-byte emoji: 10 tokens allow 30 bytes, i.e. 7 whole emoji (28 bytes), not 7.5.
    const emoji = truncateToTokens('😀'.repeat(50), 10);
    expect(emoji).toBe('😀'.repeat(7));
    expect(emoji).toBe(Buffer.from(emoji, 'utf8').toString('utf8'));

    // 2 tokens allow 6 bytes: 'a' (1) + '😀' (4) = 5, and the next emoji would straddle the limit.
    const mixed = truncateToTokens('a😀😀😀', 2);
    expect(mixed).toBe('a😀');
  });

  it('returns an empty string for a limit below one token', () => {
    expect(truncateToTokens('anything', 0)).toBe('');
  });
});
