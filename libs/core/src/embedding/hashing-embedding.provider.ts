import type { EmbeddingProvider, EmbeddingResult } from './embedding-provider.interface';

const FNV_OFFSET = 0x811c9dc5;
const FNV_PRIME = 0x01000193;
const WORD_WEIGHT = 1;
const TRIGRAM_WEIGHT = 0.5;
/** Texts embedded between two yields to the event loop (about 1 ms of work). */
const YIELD_EVERY_TEXTS = 100;

/**
 * Local feature-hashing embeddings: each lower-cased word and each character trigram of a word is hashed
 * into one of `dimensions` buckets with a hashed sign, then the vector is L2-normalised.
 *
 * Deterministic, offline and fast (no model, no network), so it is the default for development, tests,
 * demos and benchmarks. Its similarity is lexical (shared words and word fragments), not semantic: use a
 * real model (`openai` provider, or Ollama/vLLM/TEI through it) for meaning-based search.
 */
export class HashingEmbeddingProvider implements EmbeddingProvider {
  readonly name = 'hashing';
  readonly model: string;
  readonly maxInputsPerRequest = 4096;
  readonly maxTokensPerRequest = 10_000_000;
  readonly maxTokensPerInput = 100_000;

  constructor(readonly dimensions = 384) {
    if (!Number.isInteger(dimensions) || dimensions < 2 || dimensions > 16_000) {
      throw new Error(
        `HashingEmbeddingProvider: dimensions ${dimensions} is out of range; use an integer from 2 to 16000 (default 384).`,
      );
    }
    this.model = `feature-hashing-v1-${dimensions}`;
  }

  async embed(texts: string[]): Promise<EmbeddingResult> {
    const vectors: Float32Array[] = [];
    for (let i = 0; i < texts.length; i++) {
      // Yield to the event loop every few texts: a batch of thousands would otherwise block it for tens of
      // milliseconds, stalling HTTP requests and the next statement of every open database transaction.
      if (i > 0 && i % YIELD_EVERY_TEXTS === 0) await new Promise((resolve) => setImmediate(resolve));
      vectors.push(this.embedOne(texts[i]));
    }
    return { vectors };
  }

  /** Embeds one text synchronously (exposed for benchmarks and tests). */
  embedOne(text: string): Float32Array {
    const vector = new Float32Array(this.dimensions);
    const lower = text.toLowerCase();
    const length = lower.length;
    let start = -1;
    for (let i = 0; i <= length; i++) {
      const code = i < length ? lower.charCodeAt(i) : 32;
      const isWordChar = (code >= 48 && code <= 57) || (code >= 97 && code <= 122) || code >= 128;
      if (isWordChar) {
        if (start < 0) start = i;
        continue;
      }
      if (start >= 0) {
        this.addWord(vector, lower, start, i);
        start = -1;
      }
    }
    let norm = 0;
    for (let i = 0; i < vector.length; i++) norm += vector[i] * vector[i];
    if (norm > 0) {
      const inverse = 1 / Math.sqrt(norm);
      for (let i = 0; i < vector.length; i++) vector[i] *= inverse;
    }
    return vector;
  }

  private addWord(vector: Float32Array, text: string, start: number, end: number): void {
    let hash = FNV_OFFSET;
    for (let i = start; i < end; i++) hash = Math.imul(hash ^ text.charCodeAt(i), FNV_PRIME);
    this.add(vector, hash, WORD_WEIGHT);
    // Trigrams over "^word$" let "laptop" and "laptops" share most features.
    const padded = end - start + 2;
    if (padded < 3) return;
    for (let i = 0; i + 3 <= padded; i++) {
      let h = FNV_OFFSET ^ 0x9e3779b9;
      for (let j = i; j < i + 3; j++) {
        const code = j === 0 ? 94 : j === padded - 1 ? 36 : text.charCodeAt(start + j - 1);
        h = Math.imul(h ^ code, FNV_PRIME);
      }
      this.add(vector, h, TRIGRAM_WEIGHT);
    }
  }

  private add(vector: Float32Array, hash: number, weight: number): void {
    const mixed = Math.imul(hash ^ (hash >>> 15), 0x2c1b3c6d) >>> 0;
    const bucket = mixed % this.dimensions;
    vector[bucket] += (mixed & 0x80000000) !== 0 ? -weight : weight;
  }
}
