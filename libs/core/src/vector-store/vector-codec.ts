/**
 * pgvector's binary wire format: int16 dimensions, int16 unused, then float32 big-endian values.
 * Sending vectors as binary parameters (node-postgres sends Buffers in binary format) is 5-14x faster
 * than their text form, measured for 384-d vectors on PostgreSQL and PGlite.
 */
export function encodeVector(vector: ArrayLike<number> | Buffer): Buffer {
  if (Buffer.isBuffer(vector)) return vector;
  // Buffer.alloc (never pooled) starts at offset 0, so the float view at offset 4 is aligned; swap32 turns
  // the platform's little-endian floats into network order natively, ~10x faster than writeFloatBE.
  const buffer = Buffer.alloc(4 + 4 * vector.length);
  buffer.writeUInt16BE(vector.length, 0);
  new Float32Array(buffer.buffer, buffer.byteOffset + 4, vector.length).set(vector);
  if (IS_LITTLE_ENDIAN) buffer.subarray(4).swap32();
  return buffer;
}

const IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** Parses pgvector's text form (`[0.1,0.2]`), as returned by `embedding::text`. */
export function parseVectorText(text: string): number[] {
  return text
    .slice(1, -1)
    .split(',')
    .filter((s) => s.length > 0)
    .map(Number);
}

/** PostgreSQL's limit of bind parameters in one statement. */
export const MAX_BIND_PARAMETERS = 65_535;

/** Splits `rows` into chunks whose statements stay under the bind-parameter limit. */
export function chunkForParameters<T>(rows: T[], parametersPerRow: number, maxRows = Infinity): T[][] {
  const size = Math.max(1, Math.min(maxRows, Math.floor(MAX_BIND_PARAMETERS / parametersPerRow)));
  const chunks: T[][] = [];
  for (let i = 0; i < rows.length; i += size) chunks.push(rows.slice(i, i + size));
  return chunks;
}
