import { HashingEmbeddingProvider } from './hashing-embedding.provider';

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

describe('HashingEmbeddingProvider', () => {
  const provider = new HashingEmbeddingProvider(384);

  it('returns one L2-normalised vector of the configured length per text, in order', async () => {
    const { vectors } = await provider.embed(['waterproof hiking boots', 'stainless steel kettle']);
    expect(vectors).toHaveLength(2);
    for (const v of vectors) {
      expect(v).toHaveLength(384);
      expect(Math.sqrt(cosine(v, v))).toBeCloseTo(1, 5);
    }
    expect(Array.from(vectors[0])).not.toEqual(Array.from(vectors[1]));
  });

  it('is deterministic across instances and case-insensitive', () => {
    const again = new HashingEmbeddingProvider(384);
    expect(Array.from(again.embedOne('Trail Running Shoe'))).toEqual(Array.from(provider.embedOne('trail running shoe')));
  });

  it('ranks lexically related texts above unrelated ones (shared words and word fragments)', () => {
    const query = provider.embedOne('waterproof hiking boots');
    const related = provider.embedOne('Hiking boot, fully waterproof leather');
    const unrelated = provider.embedOne('Espresso machine with milk frother');
    expect(cosine(query, related)).toBeGreaterThan(cosine(query, unrelated) + 0.2);
  });

  it('returns the zero vector for text without words instead of dividing by zero', () => {
    expect(Array.from(provider.embedOne('  ... !!! ')).every((x) => x === 0)).toBe(true);
  });

  it('names the model after its dimensions, so a dimension change changes every content hash', () => {
    expect(new HashingEmbeddingProvider(64).model).not.toBe(provider.model);
  });

  it('rejects impossible dimensions with a sentence naming the value', () => {
    expect(() => new HashingEmbeddingProvider(1)).toThrow(/dimensions 1 is out of range/);
    expect(() => new HashingEmbeddingProvider(1.5)).toThrow(/dimensions 1.5/);
  });
});
