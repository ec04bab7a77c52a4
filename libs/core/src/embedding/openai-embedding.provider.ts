import OpenAI from 'openai';
import type { OpenAiEmbeddingOptions } from '../config/ai-core-options.interface';
import type { EmbeddingBatchApi, EmbeddingProvider, EmbeddingResult, RateLimitHints } from './embedding-provider.interface';
import { OpenAiEmbeddingBatches } from './openai-embedding-batches';
import { EmbeddingProviderError, EmbeddingQuotaExceededError, EmbeddingRateLimitError } from './embedding.errors';
import { defaultTokenizerFor, tokenCounterFor, type OpenAiTokenizer } from './openai-tokenizer';

const DEFAULT_TIMEOUT_MS = 30_000;
const HEALTH_TIMEOUT_MS = 5_000;
const DEFAULT_RETRY_AFTER_MS = 1_000;
const DEFAULT_MAX_INPUTS = 2048;
const DEFAULT_MAX_TOKENS_PER_REQUEST = 300_000;
const DEFAULT_MAX_TOKENS_PER_INPUT = 8191;

/** One embedding as the API returns it: base64 float32 when asked for, though some servers send floats anyway. */
export interface RawEmbedding {
  index: number;
  embedding: unknown;
}

/**
 * Embeddings from any OpenAI-compatible API (OpenAI, Azure OpenAI, Ollama, vLLM, TEI) through the official
 * `openai` SDK.
 *
 * The SDK's own retries are switched off (`maxRetries: 0`): the indexing queue and the shared
 * {@link ProviderRateLimiter} own retries and backoff, and must see every attempt. Vectors are requested as
 * base64 (a quarter of the JSON size) and checked against the configured `dimensions`, so a wrong model or
 * setting fails loudly instead of writing vectors of the wrong length.
 *
 * @example
 * ```ts
 * const provider = new OpenAiEmbeddingProvider({
 *   provider: 'openai', apiKey: process.env.OPENAI_API_KEY!, model: 'text-embedding-3-small', dimensions: 1536,
 * });
 * const { vectors, rateLimit } = await provider.embed(['red running shoes']);
 * ```
 */
export class OpenAiEmbeddingProvider implements EmbeddingProvider {
  readonly name = 'openai';
  readonly model: string;
  readonly dimensions: number;
  readonly maxInputsPerRequest: number;
  readonly maxTokensPerRequest: number;
  readonly maxTokensPerInput: number;
  /** How this provider counts tokens (see {@link OpenAiEmbeddingOptions.tokenizer}). */
  readonly tokenizer: OpenAiTokenizer;
  /** OpenAI's Batch API (Files + Batches) for `mode: 'batch'` backfills. */
  readonly batches: EmbeddingBatchApi;
  /**
   * Tokens of `text` as the model counts them with the configured tokenizer; absent when the tokenizer is
   * `estimate`, so callers use the byte estimate (`ceil(utf8 bytes / 3)`, deliberately high) and know it
   * is one (the embedding service then calibrates it from the usage the server reports).
   */
  readonly countTokens?: (text: string) => number;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly sendDimensions: boolean;
  private readonly timeoutMs: number;

  constructor(options: OpenAiEmbeddingOptions) {
    if (typeof options.apiKey !== 'string' || options.apiKey.trim() === '') {
      throw new Error(
        'OpenAiEmbeddingProvider: apiKey is empty. Set embedding.apiKey ' +
          '(local servers such as Ollama accept any non-empty string).',
      );
    }
    if (typeof options.model !== 'string' || options.model.trim() === '') {
      throw new Error('OpenAiEmbeddingProvider: model is empty. Set embedding.model, e.g. "text-embedding-3-small".');
    }
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
      throw new Error(
        `OpenAiEmbeddingProvider: dimensions ${options.dimensions} for model "${options.model}" is invalid; ` +
          'set it to the vector length the model returns (e.g. 1536 for text-embedding-3-small).',
      );
    }
    this.apiKey = options.apiKey;
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.sendDimensions = options.sendDimensions ?? false;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.maxInputsPerRequest = positiveInteger(options.maxInputsPerRequest, DEFAULT_MAX_INPUTS, 'maxInputsPerRequest');
    this.maxTokensPerRequest = positiveInteger(
      options.maxTokensPerRequest,
      DEFAULT_MAX_TOKENS_PER_REQUEST,
      'maxTokensPerRequest',
    );
    this.maxTokensPerInput = positiveInteger(options.maxTokensPerInput, DEFAULT_MAX_TOKENS_PER_INPUT, 'maxTokensPerInput');
    this.tokenizer = options.tokenizer ?? defaultTokenizerFor(options.model);
    this.countTokens = tokenCounterFor(this.tokenizer);
    this.client = new OpenAI({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      timeout: this.timeoutMs,
      // Mandatory: a retry inside the SDK would be invisible to the rate limiter and the queue's attempt count.
      maxRetries: 0,
    });
    this.batches = new OpenAiEmbeddingBatches(this.client, this);
  }

  /** @internal The body of one embeddings request for `texts`, as `embed()` sends it (and a batch line carries it). */
  requestBody(texts: string[]): OpenAI.EmbeddingCreateParams {
    return {
      model: this.model,
      input: texts,
      encoding_format: 'base64',
      ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
    };
  }

  /** Embeds `texts` in one request; vectors come back in input order. */
  async embed(texts: string[], signal?: AbortSignal): Promise<EmbeddingResult> {
    if (texts.length === 0) return { vectors: [] };
    let body: OpenAI.CreateEmbeddingResponse;
    let headers: Headers;
    const started = Date.now();
    try {
      const { data, response } = await this.client.embeddings.create(this.requestBody(texts), { signal }).withResponse();
      body = data;
      headers = response.headers;
    } catch (error) {
      if (signal?.aborted) throw signal.reason ?? error;
      throw this.toEmbeddingError(error, Date.now() - started >= this.timeoutMs);
    }
    return {
      vectors: this.vectorsInInputOrder(body.data as unknown as RawEmbedding[], texts.length),
      totalTokens: body.usage?.total_tokens ?? body.usage?.prompt_tokens,
      rateLimit: parseRateLimitHeaders(headers),
    };
  }

  /** Lists the server's models with a short timeout; throws an {@link EmbeddingProviderError} when unreachable. */
  async checkHealth(): Promise<void> {
    const started = Date.now();
    try {
      await this.client.models.list({ timeout: HEALTH_TIMEOUT_MS });
    } catch (error) {
      throw this.toEmbeddingError(error, Date.now() - started >= HEALTH_TIMEOUT_MS);
    }
  }

  /** @internal Checks and decodes an embeddings response's `data` into vectors in input order. */
  vectorsInInputOrder(data: RawEmbedding[] | undefined, expected: number): Float32Array[] {
    if (!Array.isArray(data) || data.length !== expected) {
      throw new EmbeddingProviderError(
        this.name,
        `Embedding model "${this.model}" at ${this.endpoint()} returned ${Array.isArray(data) ? data.length : 'no'} ` +
          `vectors for ${expected} inputs. Check that the server is OpenAI-compatible and supports batched input.`,
        false,
      );
    }
    const vectors = new Array<Float32Array>(expected);
    for (const item of data) {
      if (!Number.isInteger(item.index) || item.index < 0 || item.index >= expected || vectors[item.index]) {
        throw new EmbeddingProviderError(
          this.name,
          `Embedding model "${this.model}" at ${this.endpoint()} returned an embedding with index ${item.index}, ` +
            `which is missing, repeated or outside 0..${expected - 1}. Check that the server is OpenAI-compatible.`,
          false,
        );
      }
      const vector = this.decode(item.embedding);
      if (vector.length !== this.dimensions) {
        throw new EmbeddingProviderError(
          this.name,
          `Embedding model "${this.model}" returned vectors of length ${vector.length}, but dimensions is configured ` +
            `as ${this.dimensions}. Set dimensions to ${vector.length}, or use a model (or sendDimensions) ` +
            `that returns ${this.dimensions}.`,
          false,
        );
      }
      vectors[item.index] = vector;
    }
    return vectors;
  }

  private decode(embedding: unknown): Float32Array {
    if (typeof embedding === 'string') {
      const bytes = Buffer.from(embedding, 'base64');
      if (bytes.length % 4 !== 0) {
        throw new EmbeddingProviderError(
          this.name,
          `Embedding model "${this.model}" returned a base64 embedding of ${bytes.length} bytes, which is not a whole ` +
            'number of float32 values. Check that the server is OpenAI-compatible.',
          false,
        );
      }
      // The API sends little-endian float32; a DataView reads it regardless of host byte order and alignment.
      const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
      const vector = new Float32Array(bytes.length / 4);
      for (let i = 0; i < vector.length; i++) vector[i] = view.getFloat32(i * 4, true);
      return vector;
    }
    if (Array.isArray(embedding) && embedding.every((value) => typeof value === 'number')) {
      return Float32Array.from(embedding as number[]);
    }
    throw new EmbeddingProviderError(
      this.name,
      `Embedding model "${this.model}" returned an embedding that is neither base64 nor an array of numbers. ` +
        'Check that the server is OpenAI-compatible.',
      false,
    );
  }

  /**
   * Maps SDK errors onto the provider error contract, with the API key scrubbed from every message.
   * `timeLimitReached` backs up the SDK's timeout detection, which misses a timeout whose AbortError comes
   * from another realm (e.g. inside Jest's VM context) and reports a plain connection error instead.
   */
  /** @internal */
  toEmbeddingError(error: unknown, timeLimitReached: boolean): Error {
    const timedOut =
      error instanceof OpenAI.APIConnectionTimeoutError || (error instanceof OpenAI.APIConnectionError && timeLimitReached);
    if (timedOut) {
      return new EmbeddingProviderError(
        this.name,
        `Embedding model "${this.model}" at ${this.endpoint()} did not answer within the request timeout. ` +
          'The work is retried; raise timeoutMs or send smaller batches if this persists.',
        true,
      );
    }
    if (error instanceof OpenAI.APIConnectionError) {
      return new EmbeddingProviderError(
        this.name,
        `Could not connect to the embedding server at ${this.endpoint()} for model "${this.model}"` +
          `${causeText(error, this.apiKey)}. The work is retried; check that the server is running and baseURL is right.`,
        true,
      );
    }
    if (!(error instanceof OpenAI.APIError) || error.status === undefined) {
      const detail = error instanceof Error ? error.message : String(error);
      return new EmbeddingProviderError(
        this.name,
        `The embedding request to model "${this.model}" at ${this.endpoint()} failed unexpectedly: ` +
          `${this.redact(detail)}. The work is retried.`,
        true,
      );
    }
    const status = error.status;
    const detail = this.redact(serverMessage(error));
    if (status === 429) {
      if (error.code === 'insufficient_quota' || error.type === 'insufficient_quota') {
        return new EmbeddingQuotaExceededError(this.name, detail);
      }
      return new EmbeddingRateLimitError(this.name, retryAfterMs(error.headers), detail);
    }
    if (status >= 500 || status === 408 || status === 409) {
      return new EmbeddingProviderError(
        this.name,
        `Embedding server at ${this.endpoint()} failed with HTTP ${status} for model "${this.model}": ${detail}. ` +
          'The work is retried.',
        true,
        status,
      );
    }
    return new EmbeddingProviderError(
      this.name,
      `Embedding server at ${this.endpoint()} rejected the request for model "${this.model}" with HTTP ${status}: ` +
        `${detail}. ${hintFor(status)}`,
      false,
      status,
    );
  }

  /** @internal The base URL without credentials, for messages. */
  endpoint(): string {
    try {
      const url = new URL(this.client.baseURL);
      url.username = '';
      url.password = '';
      return url.toString().replace(/\/$/, '');
    } catch {
      return 'the configured baseURL';
    }
  }

  /** @internal Removes the API key from text that may quote it. */
  redact(text: string): string {
    return text.split(this.apiKey).join('[redacted API key]');
  }
}

/**
 * Reads OpenAI's `x-ratelimit-remaining-*` and `x-ratelimit-reset-*` headers into {@link RateLimitHints};
 * absent or unparseable headers leave their field undefined.
 */
export function parseRateLimitHeaders(headers: Pick<Headers, 'get'>): RateLimitHints {
  const hints: RateLimitHints = {};
  const remainingRequests = parseCount(headers.get('x-ratelimit-remaining-requests'));
  const remainingTokens = parseCount(headers.get('x-ratelimit-remaining-tokens'));
  const resetRequestsMs = parseDurationMs(headers.get('x-ratelimit-reset-requests'));
  const resetTokensMs = parseDurationMs(headers.get('x-ratelimit-reset-tokens'));
  if (remainingRequests !== undefined) hints.remainingRequests = remainingRequests;
  if (remainingTokens !== undefined) hints.remainingTokens = remainingTokens;
  if (resetRequestsMs !== undefined) hints.resetRequestsMs = resetRequestsMs;
  if (resetTokensMs !== undefined) hints.resetTokensMs = resetTokensMs;
  return hints;
}

/**
 * Parses OpenAI's Go-style durations (`20ms`, `1s`, `6m0s`, `1h2m3.5s`; a bare number is seconds) into
 * milliseconds, rounded up. Returns `undefined` for anything else.
 */
export function parseDurationMs(value: string | null | undefined): number | undefined {
  if (value === null || value === undefined) return undefined;
  const text = value.trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.ceil(Number(text) * 1000 - 1e-6);
  const unitMs: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1, us: 0.001, µs: 0.001, ns: 0.000001 };
  const part = /(\d+(?:\.\d+)?)(ms|us|µs|ns|h|m|s)/y;
  let total = 0;
  let consumed = 0;
  while (consumed < text.length) {
    part.lastIndex = consumed;
    const match = part.exec(text);
    if (!match) return undefined;
    total += Number(match[1]) * unitMs[match[2]];
    consumed = part.lastIndex;
  }
  // The epsilon keeps float noise (e.g. 0.1 * 3) from rounding a whole millisecond up.
  return Math.ceil(total - 1e-6);
}

/** Milliseconds a 429 asks to wait: `retry-after-ms`, else `retry-after` (seconds or HTTP date), else 1 s. */
function retryAfterMs(headers: Headers | undefined): number {
  const ms = Number.parseFloat(headers?.get('retry-after-ms') ?? '');
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms);
  const retryAfter = headers?.get('retry-after')?.trim();
  if (retryAfter) {
    if (/^\d+(\.\d+)?$/.test(retryAfter)) return Math.ceil(Number(retryAfter) * 1000);
    const date = Date.parse(retryAfter);
    if (Number.isFinite(date)) return Math.max(0, date - Date.now());
  }
  return DEFAULT_RETRY_AFTER_MS;
}

function parseCount(value: string | null): number | undefined {
  if (value === null || !/^\s*\d+\s*$/.test(value)) return undefined;
  return Number(value);
}

/** The server's own error message, without the SDK's "<status> " prefix. */
function serverMessage(error: InstanceType<typeof OpenAI.APIError>): string {
  const body = error.error as { message?: unknown } | undefined;
  if (body && typeof body.message === 'string' && body.message !== '') return body.message.replace(/\.\s*$/, '');
  return error.message.replace(/^\d{3}\s+/, '').replace(/\.\s*$/, '');
}

/** The innermost cause's message (e.g. `connect ECONNREFUSED ...` under fetch's "fetch failed"), redacted. */
function causeText(error: Error, apiKey: string): string {
  let message = '';
  let cause = (error as { cause?: unknown }).cause;
  // Duck-typed, not instanceof: causes can come from another realm (undici inside Jest's VM context).
  for (let depth = 0; depth < 5 && typeof cause === 'object' && cause !== null; depth++) {
    const text = (cause as { message?: unknown }).message;
    if (typeof text === 'string' && text !== '' && text !== '{}') message = text;
    cause = (cause as { cause?: unknown }).cause;
  }
  return message ? ` (${message.split(apiKey).join('[redacted API key]')})` : '';
}

function hintFor(status: number): string {
  switch (status) {
    case 401:
      return 'Check the API key configured for the embedding provider.';
    case 403:
      return 'Check that the API key (or its project) may use this model.';
    case 404:
      return 'Check the model name and the baseURL (it usually ends in /v1).';
    case 400:
    case 422:
      return 'Check the input limits of the model and whether the server accepts the dimensions parameter (sendDimensions).';
    default:
      return 'Retrying the same input will not help; fix the request or the provider settings.';
  }
}

function positiveInteger(value: number | undefined, fallback: number, name: string): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`OpenAiEmbeddingProvider: ${name} ${value} is invalid; use a positive integer (default ${fallback}).`);
  }
  return value;
}
