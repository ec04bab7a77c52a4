import { createHash, randomUUID } from 'crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { Tiktoken } from 'js-tiktoken/lite';
import cl100kRanks from 'js-tiktoken/ranks/cl100k_base';

/** The API key the fake server accepts unless `startFakeOpenAiServer({ apiKey })` says otherwise. */
export const FAKE_OPENAI_API_KEY = 'sk-fake-openai-test-key-0123456789';

/** Models the fake server knows unless `startFakeOpenAiServer({ models })` says otherwise. */
export const FAKE_OPENAI_MODELS: readonly string[] = [
  'text-embedding-3-small',
  'text-embedding-3-large',
  'text-embedding-ada-002',
];

/** The body OpenAI sends with a 429 when the account has no credit left. */
export const INSUFFICIENT_QUOTA_BODY = {
  error: {
    message: 'You exceeded your current quota, please check your plan and billing details.',
    type: 'insufficient_quota',
    param: null,
    code: 'insufficient_quota',
  },
};

/** Options of {@link startFakeOpenAiServer}; every one also has a runtime control or is fixed for the server's life. */
export interface FakeOpenAiServerOptions {
  /** Bearer key required on every request. Default {@link FAKE_OPENAI_API_KEY}. */
  apiKey?: string;
  /** Vector length when the request does not send `dimensions`. Default 384. */
  dimensions?: number;
  /** Latency added before every answer, in ms. Default 0. */
  delayMs?: number;
  /** Latency added per input of an embeddings request, in ms (a large batch takes longer). Default 0. */
  delayPerInputMs?: number;
  /** Known model ids; others get 404 `model_not_found`. Default {@link FAKE_OPENAI_MODELS}. */
  models?: readonly string[];
  /** Most inputs per request before a 400, like OpenAI. Default 2048. */
  maxInputsPerRequest?: number;
  /**
   * How the server counts (and bills) the tokens of an input. Default {@link fakeTokenCount}. The server
   * runs in the test's process, so a test that measures scheduling on the shared event loop may pass a
   * cheaper count.
   */
  countTokens?: (text: string) => number;
  /** Most tokens per request, all inputs together, before a 400, like OpenAI. Default 300,000. */
  maxTokensPerRequest?: number;
  /** Most tokens per input before a 400, like OpenAI. Default 8192. */
  maxTokensPerInput?: number;
}

/** A canned answer for {@link FakeOpenAiServer.failNext}. */
export interface FakeFailure {
  /** HTTP status; with `hang`, the status recorded for the request (never sent). */
  status: number;
  /** Never answer: the connection stays open until the client gives up or the server closes. */
  hang?: boolean;
  /** JSON body; a default OpenAI-style error body for `status` when absent. */
  body?: unknown;
  /** Extra response headers, e.g. `{ 'retry-after-ms': '250' }`. */
  headers?: Record<string, string>;
}

/**
 * A random fault mix for {@link FakeOpenAiServer.injectFaults}, drawn from a seeded generator so a run
 * can be repeated. Faults apply to embedding requests after authentication, before the input checks.
 */
export interface FakeFaultMix {
  /** Share (0..1) of requests answered with HTTP 500. */
  errorRate?: number;
  /** Share (0..1) of requests never answered (they hang until the client's timeout). */
  hangRate?: number;
  /** Every `everyMs`, for `forMs`, every request gets 429 with a `retry-after-ms` to the window's end. */
  rateLimitWindow?: { everyMs: number; forMs: number };
  /** A request with an input containing any of these strings is answered 400, always. */
  poisoned?: string[];
  /** Seed of the generator. Default 1. */
  seed?: number;
}

/** What {@link FakeOpenAiServer.faultStats} counts since the faults were injected. */
export interface FakeFaultStats {
  /** Embedding requests received, and inputs in them. */
  requests: number;
  inputs: number;
  /** Requests (and their inputs) answered 500 or hung at random. */
  errors: number;
  errorInputs: number;
  hangs: number;
  hangInputs: number;
  /** Requests (and inputs) answered 429 in a rate-limit window. */
  rateLimited: number;
  rateLimitedInputs: number;
  /** Requests (and inputs) answered 400 for a poisoned input. */
  poisoned: number;
  poisonedInputs: number;
  /** Inputs embedded (answered 200), and how many of those had been embedded before. */
  embeddedInputs: number;
  duplicateInputs: number;
}

/** Limits {@link FakeOpenAiServer.enforce} applies as token buckets refilling per minute, like OpenAI. */
export interface FakeRateLimits {
  /** Requests per minute (bucket capacity = rpm). */
  rpm?: number;
  /** Tokens per minute (bucket capacity = tpm), counted as {@link fakeTokenCount}. */
  tpm?: number;
}

/** One request the fake server received, recorded on arrival and completed with the answer's status. */
export interface RecordedRequest {
  method: string;
  /** Path without the query string, e.g. `/v1/embeddings`. */
  path: string;
  /** `Date.now()` on arrival. */
  time: number;
  headers: IncomingHttpHeaders;
  /** HTTP status of the answer (0 until answered). */
  status: number;
  model?: string;
  /** Embedding inputs, normalised to an array. */
  inputs?: string[];
  encodingFormat?: string;
  dimensions?: number;
}

/** A running fake OpenAI-compatible server; see {@link startFakeOpenAiServer}. */
export interface FakeOpenAiServer {
  /** Base URL ending in `/v1`, for `new OpenAI({ baseURL })`. */
  readonly url: string;
  /** The Bearer key the server accepts. */
  readonly apiKey: string;
  /** Every request received since start or the last {@link reset}, in arrival order. */
  readonly requests: RecordedRequest[];
  /** The `POST /v1/embeddings` subset of {@link requests}. */
  readonly embeddingRequests: RecordedRequest[];
  /** Vector length when the request does not send `dimensions`; may be changed at any time. */
  dimensions: number;
  /** Latency added before every answer, in ms; may be changed at any time. */
  delayMs: number;
  /** Latency added per embedding input, in ms; may be changed at any time. */
  delayPerInputMs: number;
  /** List embeddings in reverse order (each keeps its correct `index`), to prove clients sort by `index`. */
  reverseData: boolean;
  /** Answers the next `n` embedding requests (after authentication) with `failure` instead of serving them. */
  failNext(n: number, failure: FakeFailure): void;
  /** Injects a random fault mix into embedding requests from now on (`null` removes it) and resets {@link faultStats}. */
  injectFaults(mix: FakeFaultMix | null): void;
  /** Counts of the injected faults and of what was embedded since {@link injectFaults}. */
  readonly faultStats: FakeFaultStats;
  /** Enforces rate limits on embedding requests from now on (429 with retry-after when exceeded); `null` lifts them. */
  enforce(limits: FakeRateLimits | null): void;
  /** Clears recorded requests and restores every runtime control to the start options. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const DEFAULT_DIMENSIONS = 384;
const UNENFORCED_LIMIT = 1_000_000_000;
/** Parsed on first use (about a second), so tests that never count do not pay for it. */
let cl100k: Tiktoken | undefined;

/**
 * Tokens the fake server counts (and bills) for `text`: `cl100k_base`, what OpenAI's embedding models use,
 * through `js-tiktoken` — an implementation independent of the library's `gpt-tokenizer`, so a test or
 * benchmark comparing the library's counts with the server's compares two tokenizers, as against OpenAI.
 * User text is never read as special tokens (`<|endoftext|>` is ordinary text), as at OpenAI.
 */
export function fakeTokenCount(text: string): number {
  cl100k ??= new Tiktoken(cl100kRanks);
  return cl100k.encode(text, [], []).length;
}

/**
 * The vector the fake server returns for `text`: pseudo-random values seeded from the SHA-256 of the text,
 * L2-normalised. Deterministic, so tests can check that each output belongs to its input.
 */
export function fakeEmbedding(text: string, dimensions = DEFAULT_DIMENSIONS): Float32Array {
  const seed = createHash('sha256').update(text, 'utf8').digest();
  // xorshift128: any non-zero state works, and a hash is never all zero in practice.
  let x = seed.readUInt32LE(0) || 1;
  let y = seed.readUInt32LE(4);
  let z = seed.readUInt32LE(8);
  let w = seed.readUInt32LE(12);
  const values = new Float64Array(dimensions);
  let norm = 0;
  for (let i = 0; i < dimensions; i++) {
    const t = x ^ (x << 11);
    x = y;
    y = z;
    z = w;
    w = (w ^ (w >>> 19) ^ (t ^ (t >>> 8))) >>> 0;
    values[i] = w / 0x80000000 - 1;
    norm += values[i] * values[i];
  }
  const scale = norm > 0 ? 1 / Math.sqrt(norm) : 0;
  const vector = new Float32Array(dimensions);
  for (let i = 0; i < dimensions; i++) vector[i] = values[i] * scale;
  return vector;
}

/**
 * Starts a local OpenAI-compatible HTTP server on 127.0.0.1 (random port) for tests:
 * `POST /v1/embeddings` (base64 float32 little-endian when `encoding_format: 'base64'`, float arrays otherwise,
 * as the real API does), `GET /v1/models` and `GET /v1/models/:id`. Every request needs
 * `Authorization: Bearer <apiKey>` (401 otherwise; the message echoes the wrong key verbatim, which is worse
 * than OpenAI, so tests can prove clients redact it). Bad JSON or input gets 400 and over-limit input gets
 * OpenAI's 400s. Every answer carries `x-ratelimit-*` headers.
 *
 * @example
 * ```ts
 * const server = await startFakeOpenAiServer();
 * const client = new OpenAI({ apiKey: server.apiKey, baseURL: server.url, maxRetries: 0 });
 * server.failNext(1, { status: 429, headers: { 'retry-after-ms': '200' } });
 * await server.close();
 * ```
 */
export async function startFakeOpenAiServer(options: FakeOpenAiServerOptions = {}): Promise<FakeOpenAiServer> {
  const server = new FakeServer(options);
  await server.listen();
  return server;
}

/** A per-minute token bucket starting full, the way OpenAI describes its limits. */
class MinuteBucket {
  private balance: number;
  private at: number;

  constructor(
    readonly limit: number,
    now: number,
  ) {
    this.balance = limit;
    this.at = now;
  }

  /** Takes `n` when available and returns 0, else returns the ms until `n` will be available. */
  take(n: number, now: number): number {
    this.refill(now);
    // The tolerance absorbs float noise, so a client pacing itself exactly at the limit is not refused.
    if (this.balance + 1e-6 >= n) {
      this.balance -= n;
      return 0;
    }
    return Math.ceil(((n - this.balance) * 60_000) / this.limit);
  }

  /** Returns `n` units taken for a request that was then rejected for another reason. */
  giveBack(n: number): void {
    this.balance = Math.min(this.limit, this.balance + n);
  }

  remaining(now: number): number {
    this.refill(now);
    return Math.max(0, Math.floor(this.balance));
  }

  /** Ms until the bucket is full again (OpenAI's `x-ratelimit-reset-*`). */
  resetMs(now: number): number {
    this.refill(now);
    return Math.ceil(((this.limit - this.balance) * 60_000) / this.limit);
  }

  private refill(now: number): void {
    if (now > this.at) {
      this.balance = Math.min(this.limit, this.balance + ((now - this.at) * this.limit) / 60_000);
      this.at = now;
    }
  }
}

class HttpError {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {}
}

class FakeServer implements FakeOpenAiServer {
  readonly apiKey: string;
  readonly requests: RecordedRequest[] = [];
  url = '';
  dimensions: number;
  delayMs: number;
  delayPerInputMs: number;
  reverseData = false;
  private readonly models: readonly string[];
  private readonly maxInputs: number;
  private readonly maxTokensPerRequest: number;
  private readonly maxTokensPerInput: number;
  private readonly failures: FakeFailure[] = [];
  private requestBucket: MinuteBucket | undefined;
  private tokenBucket: MinuteBucket | undefined;
  private readonly timers = new Set<NodeJS.Timeout>();
  private faultMix: FakeFaultMix | null = null;
  private faultStarted = 0;
  private random: () => number = Math.random;
  private embeddedTexts = new Set<string>();
  faultStats: FakeFaultStats = emptyFaultStats();
  private readonly http = createServer((req, res) => void this.handle(req, res));

  constructor(private readonly options: FakeOpenAiServerOptions) {
    this.apiKey = options.apiKey ?? FAKE_OPENAI_API_KEY;
    this.dimensions = options.dimensions ?? DEFAULT_DIMENSIONS;
    this.delayMs = options.delayMs ?? 0;
    this.delayPerInputMs = options.delayPerInputMs ?? 0;
    this.models = options.models ?? FAKE_OPENAI_MODELS;
    this.maxInputs = options.maxInputsPerRequest ?? 2048;
    this.maxTokensPerRequest = options.maxTokensPerRequest ?? 300_000;
    this.maxTokensPerInput = options.maxTokensPerInput ?? 8192;
  }

  get embeddingRequests(): RecordedRequest[] {
    return this.requests.filter((r) => r.method === 'POST' && r.path === '/v1/embeddings');
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(0, '127.0.0.1', () => {
        const { port } = this.http.address() as AddressInfo;
        this.url = `http://127.0.0.1:${port}/v1`;
        resolve();
      });
    });
  }

  failNext(n: number, failure: FakeFailure): void {
    for (let i = 0; i < n; i++) this.failures.push(failure);
  }

  injectFaults(mix: FakeFaultMix | null): void {
    this.faultMix = mix;
    this.faultStarted = Date.now();
    this.random = seededRandom(mix?.seed ?? 1);
    this.embeddedTexts = new Set();
    this.faultStats = emptyFaultStats();
  }

  enforce(limits: FakeRateLimits | null): void {
    const now = Date.now();
    this.requestBucket = limits?.rpm ? new MinuteBucket(limits.rpm, now) : undefined;
    this.tokenBucket = limits?.tpm ? new MinuteBucket(limits.tpm, now) : undefined;
  }

  reset(): void {
    this.requests.length = 0;
    this.failures.length = 0;
    this.dimensions = this.options.dimensions ?? DEFAULT_DIMENSIONS;
    this.delayMs = this.options.delayMs ?? 0;
    this.delayPerInputMs = this.options.delayPerInputMs ?? 0;
    this.reverseData = false;
    this.enforce(null);
    this.injectFaults(null);
  }

  close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    return new Promise((resolve, reject) => {
      this.http.close((error) => (error ? reject(error) : resolve()));
      // Keep-alive sockets of the SDK's fetch would otherwise hold close() open.
      this.http.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    const record: RecordedRequest = { method: req.method ?? 'GET', path, time: Date.now(), headers: req.headers, status: 0 };
    this.requests.push(record);
    let status: number;
    let body: unknown;
    let headers: Record<string, string>;
    try {
      const raw = await readBody(req);
      ({ status, body, headers } = { status: 200, headers: {}, ...this.route(req, path, raw, record) });
    } catch (error) {
      if (error instanceof Hang) {
        // Never answered; closeAllConnections() at close() ends it, or the client gives up first.
        record.status = error.status;
        return;
      }
      ({ status, body, headers } =
        error instanceof HttpError
          ? error
          : new HttpError(500, errorBody(`Fake server bug: ${String(error)}.`, 'server_error', null)));
    }
    record.status = status;
    const send = () => {
      if (res.destroyed) return;
      const payload = JSON.stringify(body);
      res.writeHead(status, {
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(payload),
        'x-request-id': `req_${randomUUID().replace(/-/g, '')}`,
        ...this.rateLimitHeaders(),
        ...headers,
      });
      res.end(payload);
    };
    const delay = this.delayMs + this.delayPerInputMs * (record.inputs?.length ?? 0);
    if (delay > 0) {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        send();
      }, delay);
      this.timers.add(timer);
    } else {
      send();
    }
  }

  private route(
    req: IncomingMessage,
    path: string,
    raw: string,
    record: RecordedRequest,
  ): { status?: number; body: unknown; headers?: Record<string, string> } {
    this.authenticate(req);
    if (req.method === 'GET' && path === '/v1/models') {
      return { body: { object: 'list', data: this.models.map(modelObject) } };
    }
    const modelMatch = /^\/v1\/models\/(.+)$/.exec(path);
    if (req.method === 'GET' && modelMatch) {
      const id = decodeURIComponent(modelMatch[1]);
      if (!this.models.includes(id)) throw modelNotFound(id);
      return { body: modelObject(id) };
    }
    if (req.method === 'POST' && path === '/v1/embeddings') return this.embeddings(raw, record);
    throw new HttpError(404, errorBody(`Unknown request URL: ${req.method} ${path}.`, 'invalid_request_error', null));
  }

  private authenticate(req: IncomingMessage): void {
    const header = req.headers.authorization ?? '';
    const match = /^Bearer (.+)$/.exec(header);
    if (match && match[1] === this.apiKey) return;
    const message = match
      ? `Incorrect API key provided: ${match[1]}. You can find your API key at https://platform.openai.com/account/api-keys.`
      : "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth.";
    throw new HttpError(401, errorBody(message, 'invalid_request_error', 'invalid_api_key'));
  }

  private embeddings(raw: string, record: RecordedRequest): { body: unknown; headers?: Record<string, string> } {
    let request: Record<string, unknown>;
    try {
      request = JSON.parse(raw) as Record<string, unknown>;
    } catch {
      throw badRequest('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
    }
    if (request === null || typeof request !== 'object' || Array.isArray(request)) {
      throw badRequest('The request body must be a JSON object.');
    }
    const { model, input, encoding_format: encodingFormat, dimensions } = request;
    record.model = typeof model === 'string' ? model : undefined;
    record.inputs = typeof input === 'string' ? [input] : Array.isArray(input) ? (input as string[]) : undefined;
    record.encodingFormat = typeof encodingFormat === 'string' ? encodingFormat : undefined;
    record.dimensions = typeof dimensions === 'number' ? dimensions : undefined;

    const failure = this.failures.shift();
    if (failure?.hang) throw new Hang(failure.status);
    if (failure) {
      throw new HttpError(failure.status, failure.body ?? defaultFailureBody(failure.status), failure.headers);
    }
    if (this.faultMix && record.inputs) this.applyFaults(this.faultMix, record.inputs);

    if (typeof model !== 'string' || model === '') throw badRequest('You must provide a model parameter.', 'model');
    if (input === undefined) throw badRequest("'input' is a required property.", 'input');
    const inputs = record.inputs;
    if (!inputs || inputs.length === 0 || inputs.some((text) => typeof text !== 'string' || text === '')) {
      throw badRequest("'$.input' is invalid: send a non-empty string or a non-empty array of non-empty strings.", 'input');
    }
    if (inputs.length > this.maxInputs) {
      throw badRequest(`'$.input' is too long: ${inputs.length} inputs, maximum ${this.maxInputs} per request.`, 'input');
    }
    if (encodingFormat !== undefined && encodingFormat !== 'float' && encodingFormat !== 'base64') {
      const message = `'${String(encodingFormat)}' is not one of ['float', 'base64'] - 'encoding_format'.`;
      throw badRequest(message, 'encoding_format');
    }
    const validDimensions = Number.isInteger(dimensions) && (dimensions as number) >= 1 && (dimensions as number) <= 4096;
    if (dimensions !== undefined && !validDimensions) {
      throw badRequest(`Invalid 'dimensions': ${String(dimensions)}; expected an integer from 1 to 4096.`, 'dimensions');
    }
    if (!this.models.includes(model)) throw modelNotFound(model);
    const counts = inputs.map(this.options.countTokens ?? fakeTokenCount);
    const longest = Math.max(...counts);
    if (longest > this.maxTokensPerInput) {
      throw badRequest(
        `This model's maximum context length is ${this.maxTokensPerInput} tokens, however you requested ` +
          `${longest} tokens in one input. Please reduce your prompt.`,
        'input',
      );
    }
    const total = counts.reduce((sum, n) => sum + n, 0);
    if (total > this.maxTokensPerRequest) {
      throw badRequest(`Requested ${total} tokens, max ${this.maxTokensPerRequest} tokens per request.`, 'input');
    }
    this.throttle(total);

    const size = (dimensions as number | undefined) ?? this.dimensions;
    const data = inputs.map((text, index) => {
      const vector = fakeEmbedding(text, size);
      return {
        object: 'embedding',
        index,
        embedding: encodingFormat === 'base64' ? toBase64(vector) : Array.from(vector),
      };
    });
    if (this.reverseData) data.reverse();
    if (this.faultMix) {
      this.faultStats.embeddedInputs += inputs.length;
      for (const text of inputs) {
        if (this.embeddedTexts.has(text)) this.faultStats.duplicateInputs++;
        else this.embeddedTexts.add(text);
      }
    }
    return { body: { object: 'list', data, model, usage: { prompt_tokens: total, total_tokens: total } } };
  }

  /** Draws this request's fault from the mix (throws the answer), counting it. */
  private applyFaults(mix: FakeFaultMix, inputs: string[]): void {
    const stats = this.faultStats;
    stats.requests++;
    stats.inputs += inputs.length;
    const window = mix.rateLimitWindow;
    if (window) {
      const phase = (Date.now() - this.faultStarted) % window.everyMs;
      if (phase >= window.everyMs - window.forMs) {
        stats.rateLimited++;
        stats.rateLimitedInputs += inputs.length;
        throw rateLimited('Rate limit reached for requests (injected window).', window.everyMs - phase);
      }
    }
    const draw = this.random();
    if (draw < (mix.errorRate ?? 0)) {
      stats.errors++;
      stats.errorInputs += inputs.length;
      throw new HttpError(500, defaultFailureBody(500));
    }
    if (draw < (mix.errorRate ?? 0) + (mix.hangRate ?? 0)) {
      stats.hangs++;
      stats.hangInputs += inputs.length;
      throw new Hang(504);
    }
    const poisoned = mix.poisoned?.find((p) => inputs.some((text) => text.includes(p)));
    if (poisoned !== undefined) {
      stats.poisoned++;
      stats.poisonedInputs += inputs.length;
      throw badRequest(`Invalid input: the content of one input was rejected by the safety system.`, 'input');
    }
  }

  /** Applies {@link enforce}d limits; a rejected request consumes nothing. */
  private throttle(tokens: number): void {
    const now = Date.now();
    if (this.tokenBucket && tokens > this.tokenBucket.limit) {
      throw rateLimited(
        `Request too large for fake model: Limit ${this.tokenBucket.limit} tokens per minute, Requested ${tokens}.`,
        60_000,
      );
    }
    const requestWait = this.requestBucket?.take(1, now) ?? 0;
    if (requestWait > 0) {
      throw rateLimited(`Rate limit reached for requests: Limit ${this.requestBucket!.limit} per minute.`, requestWait);
    }
    const tokenWait = this.tokenBucket?.take(tokens, now) ?? 0;
    if (tokenWait > 0) {
      // A request rejected for tokens is not served, so it does not count against requests either.
      this.requestBucket?.giveBack(1);
      throw rateLimited(`Rate limit reached for tokens: Limit ${this.tokenBucket!.limit} per minute.`, tokenWait);
    }
  }

  private rateLimitHeaders(): Record<string, string> {
    const now = Date.now();
    const requests = this.requestBucket;
    const tokens = this.tokenBucket;
    return {
      'x-ratelimit-limit-requests': String(requests?.limit ?? UNENFORCED_LIMIT),
      'x-ratelimit-remaining-requests': String(requests ? requests.remaining(now) : UNENFORCED_LIMIT - 1),
      'x-ratelimit-reset-requests': formatDuration(requests ? requests.resetMs(now) : 1),
      'x-ratelimit-limit-tokens': String(tokens?.limit ?? UNENFORCED_LIMIT),
      'x-ratelimit-remaining-tokens': String(tokens ? tokens.remaining(now) : UNENFORCED_LIMIT - 1),
      'x-ratelimit-reset-tokens': formatDuration(tokens ? tokens.resetMs(now) : 1),
    };
  }
}

/** Thrown by a route to leave the request unanswered. */
class Hang {
  constructor(readonly status: number) {}
}

function emptyFaultStats(): FakeFaultStats {
  return {
    requests: 0, inputs: 0, errors: 0, errorInputs: 0, hangs: 0, hangInputs: 0, rateLimited: 0, rateLimitedInputs: 0,
    poisoned: 0, poisonedInputs: 0, embeddedInputs: 0, duplicateInputs: 0,
  };
}

/** mulberry32: a small seeded generator, so a fault mix repeats from run to run. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);
  return bytes.toString('base64');
}

/** OpenAI's Go-style durations: `20ms` below a second, else `1h2m3.5s` / `6m0s` / `1s`. */
function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.max(0, Math.ceil(ms))}ms`;
  const hours = Math.floor(ms / 3_600_000);
  const minutes = Math.floor((ms % 3_600_000) / 60_000);
  const seconds = Number(((ms % 60_000) / 1000).toFixed(3));
  if (hours > 0) return `${hours}h${minutes}m${seconds}s`;
  if (minutes > 0) return `${minutes}m${seconds}s`;
  return `${seconds}s`;
}

function modelObject(id: string) {
  return { id, object: 'model', created: 1_700_000_000, owned_by: 'fake-openai' };
}

function errorBody(message: string, type: string, code: string | null, param: string | null = null) {
  return { error: { message, type, param, code } };
}

function badRequest(message: string, param: string | null = null): HttpError {
  return new HttpError(400, errorBody(message, 'invalid_request_error', null, param));
}

function modelNotFound(id: string): HttpError {
  return new HttpError(
    404,
    errorBody(
      `The model \`${id}\` does not exist or you do not have access to it.`,
      'invalid_request_error',
      'model_not_found',
    ),
  );
}

function rateLimited(message: string, waitMs: number): HttpError {
  return new HttpError(429, errorBody(message, 'requests', 'rate_limit_exceeded'), {
    'retry-after-ms': String(waitMs),
    'retry-after': String(Math.ceil(waitMs / 1000)),
  });
}

function defaultFailureBody(status: number): unknown {
  if (status === 429) return errorBody('Rate limit reached for requests.', 'requests', 'rate_limit_exceeded');
  if (status >= 500) {
    return errorBody('The server had an error while processing your request. Sorry about that!', 'server_error', null);
  }
  return errorBody(`Injected failure with HTTP ${status}.`, 'invalid_request_error', null);
}
