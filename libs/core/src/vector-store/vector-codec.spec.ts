import { chunkForParameters, encodeVector, MAX_BIND_PARAMETERS, parseVectorText } from './vector-codec';

describe('vector codec', () => {
  it('encodes pgvector binary: uint16 dimensions, uint16 zero, big-endian float32 values', () => {
    const vector = [0.5, -1.25, 3];
    const buffer = encodeVector(vector);
    expect(buffer.readUInt16BE(0)).toBe(3);
    expect(buffer.readUInt16BE(2)).toBe(0);
    expect([buffer.readFloatBE(4), buffer.readFloatBE(8), buffer.readFloatBE(12)]).toEqual(vector);
  });

  it('matches a byte-by-byte reference encoding for a 384-d Float32Array', () => {
    const vector = Float32Array.from({ length: 384 }, (_, i) => Math.sin(i) / 3);
    const reference = Buffer.alloc(4 + 4 * 384);
    reference.writeUInt16BE(384, 0);
    vector.forEach((x, i) => reference.writeFloatBE(x, 4 + 4 * i));
    expect(encodeVector(vector).equals(reference)).toBe(true);
  });

  it('passes an already encoded Buffer through untouched', () => {
    const encoded = encodeVector([1, 2]);
    expect(encodeVector(encoded)).toBe(encoded);
  });

  it('parses the text form', () => {
    expect(parseVectorText('[0.5,-1.25,3]')).toEqual([0.5, -1.25, 3]);
    expect(parseVectorText('[]')).toEqual([]);
  });

  it('chunks rows so that no statement exceeds the bind-parameter limit', () => {
    const rows = Array.from({ length: 30_000 }, (_, i) => i);
    const chunks = chunkForParameters(rows, 7);
    expect(chunks.flat()).toEqual(rows);
    for (const chunk of chunks) expect(chunk.length * 7).toBeLessThanOrEqual(MAX_BIND_PARAMETERS);
    expect(chunkForParameters(rows, 7, 1000).every((c) => c.length <= 1000)).toBe(true);
  });
});
