import { createHash, randomUUID } from 'crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'http';
import type { AddressInfo } from 'net';
import { Tiktoken, type TiktokenBPE } from 'js-tiktoken/lite';

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
  /** Limits of the Files and Batch APIs; OpenAI's published limits by default. */
  batchLimits?: FakeBatchLimits;
  /** How long each phase of a batch lasts; runtime control {@link FakeOpenAiServer.setBatchTiming}. */
  batchTiming?: FakeBatchTiming;
  /**
   * What the error file of a cancelled batch says about the lines it never ran. `'error-file'` (default) writes
   * one `batch_cancelled` line per such request: OpenAI's reference lists that code for batch output lines, and
   * real cancelled batches report an error file even with `request_counts.failed` 0. `'omit'` leaves them out,
   * so a test can prove a client copes with both.
   */
  cancelledBatchLines?: 'error-file' | 'omit';
}

/** Limits of the fake Batch API (`POST /v1/files` and `/v1/batches`); each defaults to OpenAI's. */
export interface FakeBatchLimits {
  /** Largest file `POST /v1/files` accepts, in bytes (400 above). Default 200 MB, OpenAI's batch input limit. */
  maxFileBytes?: number;
  /** Most request lines in a batch input file; more fails the batch at validation. Default 50,000. */
  maxRequestsPerFile?: number;
  /** Most embedding inputs over all lines of a `/v1/embeddings` batch; more fails it at validation. Default 50,000. */
  maxInputsPerBatch?: number;
}

/**
 * The accelerated clock of the fake Batch API, in ms; OpenAI takes minutes to hours, tests cannot wait that long.
 * A batch goes `validating` → `in_progress` → `finalizing` → `completed`, each phase on an unref'd timer.
 */
export interface FakeBatchTiming {
  /** Time in `validating` before the input file is checked. Default 50. */
  validateMs?: number;
  /** Time in `in_progress`: the lines run in up to 10 even steps spread over it. Default 200. */
  processMs?: number;
  /** Time in `finalizing` before `completed`, and in `cancelling` before `cancelled`. Default 50. */
  finalizeMs?: number;
}

/** The File object of OpenAI's Files API, as the fake server answers it. */
export interface FakeFileObject {
  /** `file-…`. */
  id: string;
  object: 'file';
  /** Size of the content in bytes. */
  bytes: number;
  /** Unix seconds. */
  created_at: number;
  /** Unix seconds; batch input files expire after 30 days at OpenAI, output files here never. */
  expires_at: number | null;
  filename: string;
  /** `batch` for uploads, `batch_output` for the output and error files the server writes. */
  purpose: 'batch' | 'batch_output';
  /** Always `processed`: the fake has nothing to process after an upload. */
  status: 'processed';
  status_details: null;
}

/** A file the fake server holds: its File object and its bytes. */
export interface FakeStoredFile {
  readonly file: FakeFileObject;
  readonly content: Buffer;
}

/** The statuses of OpenAI's Batch object. */
export type FakeBatchStatus =
  | 'validating'
  | 'failed'
  | 'in_progress'
  | 'finalizing'
  | 'completed'
  | 'expired'
  | 'cancelling'
  | 'cancelled';

/** One validation error of a `failed` batch (`errors.data[]`), as OpenAI reports it. */
export interface FakeBatchError {
  /** The fake's codes: `invalid_json_line`, `missing_required_parameter`, `duplicate_custom_id`, `invalid_method`, `invalid_url`, `mismatched_model`, `empty_file`, `too_many_requests`, `too_many_inputs`. */
  code: string;
  message: string;
  /** The offending field of the line, e.g. `custom_id`; `null` when the error is about the whole file. */
  param: string | null;
  /** 1-based line of the input file; `null` when the error is about the whole file. */
  line: number | null;
}

/** OpenAI's batch `usage` (an embeddings batch only has input tokens). */
export interface FakeBatchUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** The Batch object of OpenAI's Batch API, as the fake server answers it (timestamps in unix seconds or `null`). */
export interface FakeBatchObject {
  /** `batch_…`. */
  id: string;
  object: 'batch';
  /** Always `/v1/embeddings`: the only endpoint this fake runs. */
  endpoint: string;
  /** The model of the input file's lines, once validated. */
  model?: string;
  /** Why a `failed` batch failed validation; `null` otherwise. */
  errors: { object: 'list'; data: FakeBatchError[] } | null;
  input_file_id: string;
  completion_window: string;
  status: FakeBatchStatus;
  /** The JSONL of the successful requests; set when the batch ends with at least one. */
  output_file_id: string | null;
  /** The JSONL of failed, expired and cancelled requests; set when the batch ends with at least one. */
  error_file_id: string | null;
  created_at: number;
  in_progress_at: number | null;
  /** `created_at` plus the 24 h completion window. */
  expires_at: number | null;
  finalizing_at: number | null;
  completed_at: number | null;
  failed_at: number | null;
  expired_at: number | null;
  cancelling_at: number | null;
  cancelled_at: number | null;
  /** `total` is the number of lines once validated; `failed` counts executed requests that failed, not expired or cancelled ones. */
  request_counts: { total: number; completed: number; failed: number };
  metadata: Record<string, string> | null;
  /** Tokens of the successful requests; present once the batch has ended. */
  usage?: FakeBatchUsage;
}

/** What {@link FakeOpenAiServer.failBatchRequests} answers for a batch line that should fail. */
export interface FakeBatchRequestFailure {
  /** HTTP status of the line's response, e.g. 400 or 500. */
  status: number;
  /** `error.message` of the line's response body. */
  message: string;
  /** `error.code` of the line's response body; `null` when absent. */
  code?: string;
}

/** Decides per batch line whether it fails; see {@link FakeOpenAiServer.failBatchRequests}. */
export type FakeBatchFailurePredicate = (
  customId: string,
  body: Readonly<Record<string, unknown>>,
) => FakeBatchRequestFailure | undefined;

/** What {@link FakeOpenAiServer.batchStats} counts since start or the last reset. */
export interface FakeBatchStats {
  /** Files uploaded through `POST /v1/files` (the output files the server writes are not counted). */
  filesUploaded: number;
  /** Batches accepted by `POST /v1/batches`. */
  batchesCreated: number;
  /** Batches moved to `cancelling` by `POST /v1/batches/{id}/cancel`. */
  batchesCancelled: number;
  /** Batch lines executed, successful or not (expired and cancelled lines never execute). */
  linesExecuted: number;
  /** Inputs of the successfully executed lines. */
  inputsEmbedded: number;
  /** Tokens of the successfully executed lines, counted like `/v1/embeddings` counts them; pricing is the caller's business. */
  tokensBilled: number;
}

/** One batch line the server executed; kept apart from {@link FakeOpenAiServer.requests}, which only holds HTTP requests. */
export interface RecordedBatchLine {
  batchId: string;
  customId: string;
  /** `Date.now()` at execution. */
  time: number;
  /** `status_code` of the line's response (200 on success). */
  status: number;
  model?: string;
  /** Embedding inputs, normalised to an array. */
  inputs?: string[];
  encodingFormat?: string;
  dimensions?: number;
  /** Tokens billed for the line: its input tokens on success, 0 otherwise. */
  tokens: number;
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
  /** Uploaded and server-written files by id (deleted ones removed), for assertions; do not modify. */
  readonly files: ReadonlyMap<string, FakeStoredFile>;
  /** Batches by id in creation order, the live objects the API answers copies of, for assertions; do not modify. */
  readonly batches: ReadonlyMap<string, FakeBatchObject>;
  /** Every batch line executed since start or the last {@link reset}, in execution order. */
  readonly batchLines: RecordedBatchLine[];
  /** Write output and error files in reverse line order (OpenAI does not keep the input order), to prove clients match by `custom_id`. */
  reverseBatchOutput: boolean;
  /**
   * Changes the batch clock from now on; phases already under way keep their end time. Omitted fields keep
   * their current value.
   */
  setBatchTiming(timing: FakeBatchTiming): void;
  /**
   * Makes batch lines fail: each line about to execute is passed to `predicate`, and a returned failure becomes
   * the line's response (`status_code` and an OpenAI error body) in the error file instead of embeddings.
   * `null` removes the predicate. Lines that fail the embedding checks (unknown model, too many tokens…) fail
   * anyway, as they would on `/v1/embeddings`.
   */
  failBatchRequests(predicate: FakeBatchFailurePredicate | null): void;
  /**
   * Expires the given batches now (all unfinished ones without `ids`): lines already executed stay in the
   * output and error files, every other line gets a `batch_expired` error line, and the status becomes
   * `expired`. A batch still `validating` is validated first (and may `fail` instead); finished, finalizing
   * and cancelling batches are left alone.
   */
  expireBatches(ids?: string[]): void;
  /**
   * Makes the next created batch (the next one `match` accepts, when given) expire after executing only its
   * first `afterLines` lines. Calls queue up, one batch each.
   */
  expireNextBatch(afterLines: number, match?: (batch: FakeBatchObject) => boolean): void;
  /**
   * `true` keeps batches in `in_progress` without executing any line until called with `false` (validation
   * still runs), so a test can restart its application between submission and completion. Cancel and expiry
   * still work on held batches.
   */
  holdBatches(hold: boolean): void;
  /** Counts of the Files and Batch APIs since start or the last {@link reset}. */
  batchStats(): FakeBatchStats;
  /** Clears recorded requests, files and batches (stopping running ones) and restores every runtime control to the start options. */
  reset(): void;
  /** Stops listening and drops open connections. */
  close(): Promise<void>;
}

const DEFAULT_DIMENSIONS = 384;
const DEFAULT_BATCH_TIMING: Required<FakeBatchTiming> = { validateMs: 50, processMs: 200, finalizeMs: 50 };
/** The only endpoint batches run here; the embedding logic is all this fake has. */
const BATCH_ENDPOINT = '/v1/embeddings';
const DAY_SECONDS = 86_400;
/** Lines validated between two yields to the event loop: the server shares the test's process. */
const VALIDATE_SLICE = 1_000;
/** Lines plus inputs executed between two yields to the event loop. */
const EXECUTE_SLICE = 256;
/** Validation errors reported per failed batch; a broken 50,000-line file need not produce 50,000 of them. */
const MAX_REPORTED_ERRORS = 100;
const EXPIRED_MESSAGE = 'This request could not be executed before the completion window expired.';
const CANCELLED_MESSAGE = 'This request was not executed because the batch was cancelled.';
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
  // The rank file's subpath has no types under this repository's module resolution; its CommonJS export is the table.
  cl100k ??= new Tiktoken(require('js-tiktoken/ranks/cl100k_base') as TiktokenBPE);
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
 * It also serves OpenAI's Files API (`POST /v1/files` with purpose `batch`, `GET /v1/files`, `GET` and
 * `DELETE /v1/files/{id}`, `GET /v1/files/{id}/content`) and Batch API for `/v1/embeddings` (`POST` and
 * `GET /v1/batches`, `GET /v1/batches/{id}`, `POST /v1/batches/{id}/cancel`) on an accelerated clock
 * ({@link FakeBatchTiming}); a batch line's response body is what `/v1/embeddings` answers for its body,
 * without the rate limits and injected faults of that endpoint.
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
  // The encoding's table takes about a second to parse: done here, not inside the first request, where it
  // would push a client with a short timeout into a retry.
  if (!options.countTokens) fakeTokenCount('warm-up');
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
  readonly files = new Map<string, FakeStoredFile>();
  readonly batches = new Map<string, FakeBatchObject>();
  readonly batchLines: RecordedBatchLine[] = [];
  reverseBatchOutput = false;
  private readonly batchLimits: Required<FakeBatchLimits>;
  private batchTiming: Required<FakeBatchTiming>;
  private readonly batchStates = new Map<string, BatchState>();
  /** Phase timers of running batches, apart from {@link timers} because reset() stops batches but not answers. */
  private readonly batchTimers = new Set<NodeJS.Timeout>();
  /** Bumped by reset() and close(): a batch runner of an older epoch stops at its next step. */
  private batchEpoch = 0;
  private batchesHeld = false;
  private batchFailure: FakeBatchFailurePredicate | null = null;
  private readonly pendingExpiries: { afterLines: number; match?: (batch: FakeBatchObject) => boolean }[] = [];
  private batchCounters: FakeBatchStats = emptyBatchStats();
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
    this.batchLimits = {
      maxFileBytes: options.batchLimits?.maxFileBytes ?? 200 * 1024 * 1024,
      maxRequestsPerFile: options.batchLimits?.maxRequestsPerFile ?? 50_000,
      maxInputsPerBatch: options.batchLimits?.maxInputsPerBatch ?? 50_000,
    };
    this.batchTiming = { ...DEFAULT_BATCH_TIMING, ...definedFields(options.batchTiming) };
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

  setBatchTiming(timing: FakeBatchTiming): void {
    this.batchTiming = { ...this.batchTiming, ...definedFields(timing) };
  }

  failBatchRequests(predicate: FakeBatchFailurePredicate | null): void {
    this.batchFailure = predicate;
  }

  expireBatches(ids?: string[]): void {
    for (const state of this.batchStates.values()) {
      if (ids && !ids.includes(state.batch.id)) continue;
      if (state.batch.status !== 'validating' && state.batch.status !== 'in_progress') continue;
      // Lines already executed keep their results; the runner expires the batch at its next step.
      state.expireAfter = Math.min(state.expireAfter ?? Infinity, state.next);
      state.wake?.();
    }
  }

  expireNextBatch(afterLines: number, match?: (batch: FakeBatchObject) => boolean): void {
    this.pendingExpiries.push({ afterLines, match });
  }

  holdBatches(hold: boolean): void {
    this.batchesHeld = hold;
    if (!hold) for (const state of this.batchStates.values()) state.wake?.();
  }

  batchStats(): FakeBatchStats {
    return { ...this.batchCounters };
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
    this.stopBatches();
    this.files.clear();
    this.batches.clear();
    this.batchLines.length = 0;
    this.reverseBatchOutput = false;
    this.batchTiming = { ...DEFAULT_BATCH_TIMING, ...definedFields(this.options.batchTiming) };
    this.batchesHeld = false;
    this.batchFailure = null;
    this.pendingExpiries.length = 0;
    this.batchCounters = emptyBatchStats();
  }

  close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    this.stopBatches();
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
    let answer: RouteAnswer;
    try {
      const raw = await readBody(req);
      answer = await this.route(req, path, raw, record);
    } catch (error) {
      if (error instanceof Hang) {
        // Never answered; closeAllConnections() at close() ends it, or the client gives up first.
        record.status = error.status;
        return;
      }
      answer =
        error instanceof HttpError
          ? error
          : new HttpError(500, errorBody(`Fake server bug: ${String(error)}.`, 'server_error', null));
    }
    const status = answer.status ?? 200;
    record.status = status;
    const send = () => {
      if (res.destroyed) return;
      const payload = answer.raw ?? JSON.stringify(answer.body);
      res.writeHead(status, {
        'content-type': answer.raw ? (answer.contentType ?? 'application/octet-stream') : 'application/json',
        'content-length': Buffer.byteLength(payload),
        'x-request-id': `req_${randomUUID().replace(/-/g, '')}`,
        ...this.rateLimitHeaders(),
        ...answer.headers,
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
    raw: Buffer,
    record: RecordedRequest,
  ): RouteAnswer | Promise<RouteAnswer> {
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
    if (req.method === 'POST' && path === '/v1/embeddings') return this.embeddings(raw.toString('utf8'), record);
    if (path.startsWith('/v1/files') || path.startsWith('/v1/batches')) {
      const answer = this.routeBatchApi(req, path, raw);
      if (answer) return answer;
    }
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
    const request = parseJsonObject(raw);
    Object.assign(record, describeEmbeddingBody(request));

    const failure = this.failures.shift();
    if (failure?.hang) throw new Hang(failure.status);
    if (failure) {
      throw new HttpError(failure.status, failure.body ?? defaultFailureBody(failure.status), failure.headers);
    }
    if (this.faultMix && record.inputs) this.applyFaults(this.faultMix, record.inputs);

    const { body, inputs } = this.embed(request, (tokens) => this.throttle(tokens));
    if (this.faultMix) {
      this.faultStats.embeddedInputs += inputs.length;
      for (const text of inputs) {
        if (this.embeddedTexts.has(text)) this.faultStats.duplicateInputs++;
        else this.embeddedTexts.add(text);
      }
    }
    return { body };
  }

  /**
   * The checks and answer of `/v1/embeddings` for a parsed body, shared by the endpoint and batch lines so a
   * batch line's response body is exactly what the endpoint would answer. Throws the endpoint's HttpErrors;
   * `throttle` (the endpoint's rate limits) runs after the checks, with the request's tokens.
   */
  private embed(
    request: Record<string, unknown>,
    throttle?: (tokens: number) => void,
  ): { body: EmbeddingsBody; tokens: number; inputs: string[] } {
    const { model, input, encoding_format: encodingFormat, dimensions } = request;
    if (typeof model !== 'string' || model === '') throw badRequest('You must provide a model parameter.', 'model');
    if (input === undefined) throw badRequest("'input' is a required property.", 'input');
    const inputs = describeEmbeddingBody(request).inputs;
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
    throttle?.(total);

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
    return { body: { object: 'list', data, model, usage: { prompt_tokens: total, total_tokens: total } }, tokens: total, inputs };
  }

  /** Routes the Files and Batch APIs; `undefined` for a path or method they do not serve (then 404). */
  private routeBatchApi(req: IncomingMessage, path: string, raw: Buffer): RouteAnswer | Promise<RouteAnswer> | undefined {
    const method = req.method ?? 'GET';
    const query = new URL(req.url ?? '/', 'http://fake.local').searchParams;
    if (path === '/v1/files') {
      if (method === 'POST') return this.uploadFile(req, raw);
      if (method === 'GET') return this.listFiles(query);
      return undefined;
    }
    const file = /^\/v1\/files\/([^/]+)(\/content)?$/.exec(path);
    if (file) {
      const stored = this.fileOrThrow(decodeURIComponent(file[1]));
      if (file[2] && method === 'GET') {
        // OpenAI answers file content as raw bytes; the SDK returns the Response for `.text()`.
        return { raw: stored.content, contentType: 'application/octet-stream' };
      }
      if (file[2]) return undefined;
      if (method === 'GET') return { body: { ...stored.file } };
      if (method === 'DELETE') {
        this.files.delete(stored.file.id);
        return { body: { id: stored.file.id, object: 'file', deleted: true } };
      }
      return undefined;
    }
    if (path === '/v1/batches') {
      if (method === 'POST') return this.createBatch(raw);
      if (method === 'GET') return this.listBatches(query);
      return undefined;
    }
    const batch = /^\/v1\/batches\/([^/]+)(\/cancel)?$/.exec(path);
    if (batch) {
      const state = this.batchOrThrow(decodeURIComponent(batch[1]));
      if (batch[2] && method === 'POST') return this.cancelBatch(state);
      if (!batch[2] && method === 'GET') return { body: structuredClone(state.batch) };
    }
    return undefined;
  }

  /** `POST /v1/files`: a multipart upload with `purpose=batch`, parsed by Node's own `Request` (no dependency). */
  private async uploadFile(req: IncomingMessage, raw: Buffer): Promise<RouteAnswer> {
    const contentType = req.headers['content-type'] ?? '';
    if (!/^multipart\/form-data/i.test(contentType)) {
      throw badRequest("An upload must be sent as multipart/form-data with the fields 'purpose' and 'file'.", 'file');
    }
    let form: FormData;
    try {
      form = await new Request('http://fake.local/v1/files', {
        method: 'POST',
        headers: { 'content-type': contentType },
        body: new Uint8Array(raw),
      }).formData();
    } catch {
      throw badRequest('The multipart/form-data body of the upload could not be parsed.', 'file');
    }
    const purpose = form.get('purpose');
    if (purpose === null) throw badRequest("Missing required parameter: 'purpose'.", 'purpose');
    if (purpose !== 'batch') {
      throw badRequest(`Invalid value for 'purpose': '${String(purpose)}'. This fake server only accepts 'batch'.`, 'purpose');
    }
    const file = form.get('file');
    if (file === null || typeof file === 'string') {
      throw badRequest("Missing required parameter: 'file' must be a file part, not a text field.", 'file');
    }
    if (file.size > this.batchLimits.maxFileBytes) {
      throw badRequest(
        `The file is too large: ${file.size} bytes, and a file for purpose 'batch' may have at most ` +
          `${this.batchLimits.maxFileBytes} bytes.`,
        'file',
      );
    }
    if (!file.name.endsWith('.jsonl')) {
      throw badRequest(`Invalid file '${file.name}': the Batch API only accepts .jsonl files.`, 'file');
    }
    const stored = this.storeFile(file.name, 'batch', Buffer.from(await file.arrayBuffer()));
    this.batchCounters.filesUploaded++;
    return { body: { ...stored.file } };
  }

  /** `GET /v1/files`: newest first (`order=asc` reverses), optionally of one `purpose`, cursor-paged by `after`. */
  private listFiles(query: URLSearchParams): RouteAnswer {
    const purpose = query.get('purpose');
    let files = [...this.files.values()].map((stored) => stored.file).filter((file) => !purpose || file.purpose === purpose);
    if (query.get('order') !== 'asc') files = files.reverse();
    return { body: listPage(files, query, 10_000, 10_000) };
  }

  /** `POST /v1/batches`: checks the parameters now, the input file's lines later, at `validating`. */
  private createBatch(raw: Buffer): RouteAnswer {
    const request = parseJsonObject(raw.toString('utf8'));
    const { input_file_id: inputFileId, endpoint, completion_window: completionWindow, metadata } = request;
    if (typeof inputFileId !== 'string' || inputFileId === '') {
      throw badRequest("Missing required parameter: 'input_file_id'.", 'input_file_id');
    }
    if (endpoint !== BATCH_ENDPOINT) {
      throw badRequest(
        `Invalid value for 'endpoint': '${String(endpoint)}'. This fake server only runs '${BATCH_ENDPOINT}' batches.`,
        'endpoint',
      );
    }
    if (completionWindow !== '24h') {
      throw badRequest(
        `Invalid value for 'completion_window': '${String(completionWindow)}'. Only '24h' is supported.`,
        'completion_window',
      );
    }
    checkMetadata(metadata);
    const input = this.files.get(inputFileId);
    if (!input) throw badRequest(`Invalid 'input_file_id': no file with id '${inputFileId}' exists.`, 'input_file_id');
    if (input.file.purpose !== 'batch') {
      throw badRequest(
        `Invalid 'input_file_id': the file '${inputFileId}' has purpose '${input.file.purpose}', and a batch input ` +
          `file must be uploaded with purpose 'batch'.`,
        'input_file_id',
      );
    }
    const createdAt = unixNow();
    const batch: FakeBatchObject = {
      id: `batch_${hexId()}`,
      object: 'batch',
      endpoint: BATCH_ENDPOINT,
      errors: null,
      input_file_id: inputFileId,
      completion_window: '24h',
      status: 'validating',
      output_file_id: null,
      error_file_id: null,
      created_at: createdAt,
      in_progress_at: null,
      expires_at: createdAt + DAY_SECONDS,
      finalizing_at: null,
      completed_at: null,
      failed_at: null,
      expired_at: null,
      cancelling_at: null,
      cancelled_at: null,
      request_counts: { total: 0, completed: 0, failed: 0 },
      metadata: (metadata as Record<string, string> | null | undefined) ?? null,
    };
    // The file's bytes as they are now: deleting or replacing the file later does not change the batch.
    const state: BatchState = { batch, input: input.content, lines: [], next: 0, output: [], errors: [], tokens: 0, cancelRequested: false };
    const expiry = this.pendingExpiries.findIndex((pending) => !pending.match || pending.match(batch));
    if (expiry >= 0) state.expireAfter = this.pendingExpiries.splice(expiry, 1)[0].afterLines;
    this.batches.set(batch.id, batch);
    this.batchStates.set(batch.id, state);
    this.batchCounters.batchesCreated++;
    this.runBatch(state).catch((error: unknown) => {
      // A bug of the fake must show in the test as a failed batch, not as an unhandled rejection.
      if (!this.batchStates.has(batch.id)) return;
      batch.status = 'failed';
      batch.failed_at = unixNow();
      batch.errors = { object: 'list', data: [{ code: 'server_error', message: `Fake server bug: ${String(error)}.`, param: null, line: null }] };
    });
    return { body: structuredClone(batch) };
  }

  /** `GET /v1/batches`: newest first, cursor-paged by `after` (a batch id), 20 per page unless `limit` (1..100). */
  private listBatches(query: URLSearchParams): RouteAnswer {
    const newestFirst = [...this.batches.values()].reverse();
    return { body: listPage(newestFirst.map((batch) => structuredClone(batch)), query, 20, 100) };
  }

  /** `POST /v1/batches/{id}/cancel`: `cancelling` now, `cancelled` after `finalizeMs`; repeating it is harmless. */
  private cancelBatch(state: BatchState): RouteAnswer {
    const { batch } = state;
    if (batch.status === 'validating' || batch.status === 'in_progress') {
      batch.status = 'cancelling';
      batch.cancelling_at = unixNow();
      state.cancelRequested = true;
      this.batchCounters.batchesCancelled++;
      state.wake?.();
    } else if (batch.status !== 'cancelling' && batch.status !== 'cancelled') {
      throw new HttpError(
        409,
        errorBody(`Cannot cancel a batch with status '${batch.status}'.`, 'invalid_request_error', null),
      );
    }
    return { body: structuredClone(batch) };
  }

  /**
   * Drives one batch through its phases on the accelerated clock. Every wait is interruptible (cancel, expiry,
   * release) and every step checks the epoch, so reset() and close() stop the runner at its next step.
   */
  private async runBatch(state: BatchState): Promise<void> {
    const { batch } = state;
    const epoch = this.batchEpoch;
    const alive = () => epoch === this.batchEpoch;
    await this.pause(state, this.batchTiming.validateMs, () => state.cancelRequested, alive);
    if (!alive()) return;
    if (!state.cancelRequested) {
      const errors = await this.validateBatch(state, alive);
      if (!alive()) return;
      if (errors.length > 0 && !state.cancelRequested) {
        batch.status = 'failed';
        batch.failed_at = unixNow();
        batch.errors = { object: 'list', data: errors };
        batch.usage = batchUsage(0);
        return;
      }
    }
    if (!state.cancelRequested) {
      batch.status = 'in_progress';
      batch.in_progress_at = unixNow();
      batch.request_counts.total = state.lines.length;
      if (state.model !== undefined) batch.model = state.model;
      await this.executeBatch(state, alive);
      if (!alive()) return;
    }
    if (state.cancelRequested) {
      await this.pause(state, this.batchTiming.finalizeMs, () => false, alive);
      if (!alive()) return;
      if (this.options.cancelledBatchLines !== 'omit') {
        for (const line of state.lines.slice(state.next)) state.errors.push(notRunLine(line.customId, 'batch_cancelled', CANCELLED_MESSAGE));
      }
      this.writeBatchFiles(state);
      batch.status = 'cancelled';
      batch.cancelled_at = unixNow();
      batch.usage = batchUsage(state.tokens);
      return;
    }
    if (state.next < state.lines.length) {
      // Stopped by expiry: what ran is kept, the rest is reported as OpenAI reports it.
      for (const line of state.lines.slice(state.next)) state.errors.push(notRunLine(line.customId, 'batch_expired', EXPIRED_MESSAGE));
      this.writeBatchFiles(state);
      batch.status = 'expired';
      batch.expired_at = unixNow();
      batch.usage = batchUsage(state.tokens);
      return;
    }
    batch.status = 'finalizing';
    batch.finalizing_at = unixNow();
    await this.pause(state, this.batchTiming.finalizeMs, () => false, alive);
    if (!alive()) return;
    this.writeBatchFiles(state);
    batch.status = 'completed';
    batch.completed_at = unixNow();
    batch.usage = batchUsage(state.tokens);
  }

  /**
   * Checks the input file the way OpenAI does at `validating`: every line a JSON request for the batch's
   * endpoint with a unique `custom_id`, one model, and the file within the request and input limits. Returns
   * the errors (none: `state.lines` is set). Yields to the event loop every {@link VALIDATE_SLICE} lines.
   */
  private async validateBatch(state: BatchState, alive: () => boolean): Promise<FakeBatchError[]> {
    const rows = state.input.toString('utf8').split('\n');
    // The newline that ends the last line does not start another one.
    if (rows.length > 0 && rows[rows.length - 1] === '') rows.pop();
    if (rows.length === 0) return [fileError('empty_file', 'The input file contains no requests.')];
    const { maxRequestsPerFile, maxInputsPerBatch } = this.batchLimits;
    if (rows.length > maxRequestsPerFile) {
      return [
        fileError(
          'too_many_requests',
          `The input file has ${rows.length} requests, and a batch may hold at most ${maxRequestsPerFile}.`,
        ),
      ];
    }
    const errors: FakeBatchError[] = [];
    const report = (error: FakeBatchError) => {
      if (errors.length < MAX_REPORTED_ERRORS) errors.push(error);
    };
    const seen = new Set<string>();
    const lines: BatchLine[] = [];
    let inputs = 0;
    let model: string | undefined;
    for (let i = 0; i < rows.length; i++) {
      if (i > 0 && i % VALIDATE_SLICE === 0) {
        await yieldToEventLoop();
        if (!alive() || state.cancelRequested) return [];
      }
      const parsed = parseRequestLine(rows[i].replace(/\r$/, ''), i + 1, seen);
      if ('code' in parsed) {
        report(parsed);
        continue;
      }
      const lineModel = parsed.body.model;
      if (typeof lineModel === 'string') {
        model ??= lineModel;
        if (lineModel !== model) {
          report({
            code: 'mismatched_model',
            message: `Line ${i + 1} uses the model '${lineModel}', but the batch's earlier lines use '${model}'; a batch runs one model.`,
            param: 'body.model',
            line: i + 1,
          });
          continue;
        }
      }
      inputs += parsed.inputCount;
      lines.push(parsed);
    }
    if (inputs > maxInputsPerBatch) {
      report(
        fileError(
          'too_many_inputs',
          `The batch has ${inputs} embedding inputs, and a ${BATCH_ENDPOINT} batch may hold at most ${maxInputsPerBatch}.`,
        ),
      );
    }
    if (errors.length === 0) {
      state.lines = lines;
      state.model = model;
    }
    return errors;
  }

  /**
   * `in_progress`: runs the lines in up to 10 even steps over `processMs`, stopping early for cancel or expiry,
   * and not at all while batches are held.
   */
  private async executeBatch(state: BatchState, alive: () => boolean): Promise<void> {
    const total = state.lines.length;
    const steps = Math.max(1, Math.min(10, total));
    const perStep = Math.ceil(total / steps);
    const stopped = () => state.cancelRequested || (state.expireAfter !== undefined && state.next >= state.expireAfter);
    while (alive() && state.next < total && !stopped()) {
      if (this.batchesHeld) {
        await this.pause(state, Infinity, () => !this.batchesHeld || stopped(), alive);
        continue;
      }
      await this.pause(state, this.batchTiming.processMs / steps, stopped, alive);
      if (!alive() || stopped() || this.batchesHeld) continue;
      const stop = Math.min(total, state.next + perStep);
      let work = 0;
      while (state.next < stop && !stopped()) {
        const line = state.lines[state.next];
        this.executeBatchLine(state, line);
        state.next++;
        work += 1 + line.inputCount;
        if (work >= EXECUTE_SLICE && state.next < stop) {
          work = 0;
          await yieldToEventLoop();
          if (!alive()) return;
        }
      }
    }
  }

  /** Runs one line through the `/v1/embeddings` logic (no rate limits, no injected faults) or {@link failBatchRequests}. */
  private executeBatchLine(state: BatchState, line: BatchLine): void {
    const { batch } = state;
    let statusCode = 200;
    let body: unknown;
    let tokens = 0;
    const failure = this.batchFailure?.(line.customId, line.body);
    if (failure) {
      statusCode = failure.status;
      const type = failure.status >= 500 ? 'server_error' : 'invalid_request_error';
      body = errorBody(failure.message, type, failure.code ?? null);
    } else {
      try {
        const answer = this.embed(line.body);
        body = answer.body;
        tokens = answer.tokens;
        this.batchCounters.inputsEmbedded += answer.inputs.length;
      } catch (error) {
        const httpError =
          error instanceof HttpError
            ? error
            : new HttpError(500, errorBody(`Fake server bug: ${String(error)}.`, 'server_error', null));
        statusCode = httpError.status;
        body = httpError.body;
      }
    }
    const entry = JSON.stringify({
      id: `batch_req_${hexId()}`,
      custom_id: line.customId,
      response: { status_code: statusCode, request_id: `req_${hexId()}`, body },
      error: null,
    });
    this.batchCounters.linesExecuted++;
    if (statusCode === 200) {
      state.output.push(entry);
      state.tokens += tokens;
      batch.request_counts.completed++;
      this.batchCounters.tokensBilled += tokens;
    } else {
      state.errors.push(entry);
      batch.request_counts.failed++;
    }
    this.batchLines.push({
      batchId: batch.id,
      customId: line.customId,
      time: Date.now(),
      status: statusCode,
      tokens,
      ...describeEmbeddingBody(line.body),
    });
  }

  /** Writes the output and error files of a finished batch; each only when it has lines, as OpenAI does. */
  private writeBatchFiles(state: BatchState): void {
    const write = (lines: string[], kind: 'output' | 'error'): string | null => {
      if (lines.length === 0) return null;
      const ordered = this.reverseBatchOutput ? [...lines].reverse() : lines;
      return this.storeFile(`${state.batch.id}_${kind}.jsonl`, 'batch_output', Buffer.from(`${ordered.join('\n')}\n`, 'utf8')).file.id;
    };
    state.batch.output_file_id = write(state.output, 'output');
    state.batch.error_file_id = write(state.errors, 'error');
  }

  private storeFile(filename: string, purpose: FakeFileObject['purpose'], content: Buffer): FakeStoredFile {
    const createdAt = unixNow();
    const file: FakeFileObject = {
      id: `file-${hexId().slice(0, 24)}`,
      object: 'file',
      bytes: content.length,
      created_at: createdAt,
      // OpenAI expires batch input files after 30 days by default.
      expires_at: purpose === 'batch' ? createdAt + 30 * DAY_SECONDS : null,
      filename,
      purpose,
      status: 'processed',
      status_details: null,
    };
    const stored: FakeStoredFile = { file, content };
    this.files.set(file.id, stored);
    return stored;
  }

  private fileOrThrow(id: string): FakeStoredFile {
    const stored = this.files.get(id);
    if (!stored) throw new HttpError(404, errorBody(`No such File object: ${id}.`, 'invalid_request_error', null, 'id'));
    return stored;
  }

  private batchOrThrow(id: string): BatchState {
    const state = this.batchStates.get(id);
    if (!state) throw new HttpError(404, errorBody(`No such Batch object: ${id}.`, 'invalid_request_error', null, 'batch_id'));
    return state;
  }

  /**
   * Waits `ms` (forever with `Infinity`) unless `interrupt()` holds first; the batch's `wake` re-checks it
   * early. Timers are unref'd so a forgotten batch never keeps Jest alive.
   */
  private async pause(state: BatchState, ms: number, interrupt: () => boolean, alive: () => boolean): Promise<void> {
    const deadline = Date.now() + ms;
    while (alive() && !interrupt()) {
      const left = deadline - Date.now();
      if (left <= 0) return;
      await new Promise<void>((resolve) => {
        let timer: NodeJS.Timeout | undefined;
        const wake = () => {
          if (timer) {
            clearTimeout(timer);
            this.batchTimers.delete(timer);
          }
          if (state.wake === wake) state.wake = undefined;
          resolve();
        };
        if (Number.isFinite(left)) {
          timer = setTimeout(wake, left);
          timer.unref();
          this.batchTimers.add(timer);
        }
        state.wake = wake;
      });
    }
  }

  /** Ends every batch runner (at its next step) and drops their timers; the public `files` and `batches` maps stay. */
  private stopBatches(): void {
    this.batchEpoch++;
    for (const state of this.batchStates.values()) state.wake?.();
    for (const timer of this.batchTimers) clearTimeout(timer);
    this.batchTimers.clear();
    this.batchStates.clear();
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

/** The raw body: multipart uploads are binary, JSON routes decode it as UTF-8 themselves. */
function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
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

/** What a route answers: a JSON `body`, or `raw` bytes (file content) with their `contentType`. */
interface RouteAnswer {
  status?: number;
  body?: unknown;
  raw?: Buffer;
  contentType?: string;
  headers?: Record<string, string>;
}

/** The body `/v1/embeddings` answers 200 with. */
interface EmbeddingsBody {
  object: 'list';
  data: { object: string; index: number; embedding: number[] | string }[];
  model: string;
  usage: { prompt_tokens: number; total_tokens: number };
}

/** A validated line of a batch input file. */
interface BatchLine {
  customId: string;
  body: Record<string, unknown>;
  /** Embedding inputs the line asks for (0 when `input` is not a string or array; execution then answers 400). */
  inputCount: number;
}

/** The server's private side of a batch: its input, progress and results. */
interface BatchState {
  readonly batch: FakeBatchObject;
  readonly input: Buffer;
  /** Set by validation. */
  lines: BatchLine[];
  model?: string;
  /** Lines executed so far (they run in order). */
  next: number;
  /** Output and error file lines written so far. */
  output: string[];
  errors: string[];
  /** Tokens of the successful lines. */
  tokens: number;
  /** Expire once this many lines have run. */
  expireAfter?: number;
  cancelRequested: boolean;
  /** Ends the runner's current wait early, so it re-checks cancel, expiry and hold. */
  wake?: () => void;
}

function emptyBatchStats(): FakeBatchStats {
  return { filesUploaded: 0, batchesCreated: 0, batchesCancelled: 0, linesExecuted: 0, inputsEmbedded: 0, tokensBilled: 0 };
}

/** `timing` without its `undefined` fields, so spreading it keeps the defaults of the fields it leaves out. */
function definedFields(timing: FakeBatchTiming | undefined): FakeBatchTiming {
  return Object.fromEntries(Object.entries(timing ?? {}).filter(([, value]) => value !== undefined));
}

function hexId(): string {
  return randomUUID().replace(/-/g, '');
}

function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

/** Parses a JSON request body that must be an object, with OpenAI's 400s otherwise. */
function parseJsonObject(raw: string): Record<string, unknown> {
  let request: unknown;
  try {
    request = JSON.parse(raw);
  } catch {
    throw badRequest('We could not parse the JSON body of your request. The OpenAI API expects a JSON payload.');
  }
  if (!isObject(request)) throw badRequest('The request body must be a JSON object.');
  return request;
}

/** The fields of an embeddings body a {@link RecordedRequest} or {@link RecordedBatchLine} keeps. */
function describeEmbeddingBody(body: Record<string, unknown>): Pick<RecordedRequest, 'model' | 'inputs' | 'encodingFormat' | 'dimensions'> {
  const { model, input, encoding_format: encodingFormat, dimensions } = body;
  return {
    model: typeof model === 'string' ? model : undefined,
    inputs: typeof input === 'string' ? [input] : Array.isArray(input) ? (input as string[]) : undefined,
    encodingFormat: typeof encodingFormat === 'string' ? encodingFormat : undefined,
    dimensions: typeof dimensions === 'number' ? dimensions : undefined,
  };
}

/** OpenAI's cursor page: `items` already in list order, `after` an item id, `limit` from 1 to `maxLimit`. */
function listPage<T extends { id: string }>(items: T[], query: URLSearchParams, defaultLimit: number, maxLimit: number) {
  const limitParam = query.get('limit');
  const limit = limitParam === null ? defaultLimit : Number(limitParam);
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit) {
    throw badRequest(`Invalid 'limit': ${String(limitParam)}; expected an integer from 1 to ${maxLimit}.`, 'limit');
  }
  const after = query.get('after');
  // An unknown cursor gives an empty page rather than the first one, so a client cannot loop forever.
  const start = after ? (items.findIndex((item) => item.id === after) + 1 || items.length) : 0;
  const data = items.slice(start, start + limit);
  return {
    object: 'list',
    data,
    first_id: data[0]?.id ?? null,
    last_id: data[data.length - 1]?.id ?? null,
    has_more: start + limit < items.length,
  };
}

/** OpenAI's metadata rules: at most 16 pairs, keys up to 64 characters, string values up to 512. */
function checkMetadata(metadata: unknown): void {
  if (metadata === undefined || metadata === null) return;
  if (!isObject(metadata)) throw badRequest("Invalid type for 'metadata': expected an object of strings.", 'metadata');
  const entries = Object.entries(metadata);
  if (entries.length > 16) {
    throw badRequest(`Invalid 'metadata': ${entries.length} keys, and at most 16 are allowed.`, 'metadata');
  }
  for (const [key, value] of entries) {
    if (key.length > 64) throw badRequest(`Invalid 'metadata': the key '${key}' is longer than 64 characters.`, 'metadata');
    if (typeof value !== 'string') throw badRequest(`Invalid 'metadata': the value of '${key}' must be a string.`, 'metadata');
    if (value.length > 512) {
      throw badRequest(`Invalid 'metadata': the value of '${key}' is longer than 512 characters.`, 'metadata');
    }
  }
}

/**
 * Parses and checks one line of a batch input file (`line` is 1-based); a duplicate `custom_id` is checked
 * against `seen`, which the line's own id joins. The body is checked later, by the embedding logic itself.
 */
function parseRequestLine(text: string, line: number, seen: Set<string>): BatchLine | FakeBatchError {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { code: 'invalid_json_line', message: `Line ${line} is not valid JSON.`, param: null, line };
  }
  if (!isObject(value)) return { code: 'invalid_json_line', message: `Line ${line} is not a JSON object.`, param: null, line };
  const { custom_id: customId, method, url, body } = value;
  if (typeof customId !== 'string' || customId === '') {
    return { code: 'missing_required_parameter', message: `Line ${line} has no 'custom_id' (a non-empty string).`, param: 'custom_id', line };
  }
  if (seen.has(customId)) {
    return {
      code: 'duplicate_custom_id',
      message: `The custom_id '${customId}' on line ${line} is a duplicate of an earlier line's; every request of a batch needs its own custom_id.`,
      param: 'custom_id',
      line,
    };
  }
  seen.add(customId);
  if (method !== 'POST') {
    return { code: 'invalid_method', message: `Line ${line} has the method '${String(method)}', and batch requests must use 'POST'.`, param: 'method', line };
  }
  if (url !== BATCH_ENDPOINT) {
    return {
      code: 'invalid_url',
      message: `Line ${line} has the url '${String(url)}', which does not match the batch's endpoint '${BATCH_ENDPOINT}'.`,
      param: 'url',
      line,
    };
  }
  if (!isObject(body)) return { code: 'missing_required_parameter', message: `Line ${line} has no 'body' object.`, param: 'body', line };
  const { input } = body;
  const inputCount = typeof input === 'string' ? 1 : Array.isArray(input) ? input.length : 0;
  return { customId, body, inputCount };
}

/** A validation error about the whole file rather than one line. */
function fileError(code: string, message: string): FakeBatchError {
  return { code, message, param: null, line: null };
}

/** An error-file line for a request that never ran (expired or cancelled): no response, a non-HTTP error. */
function notRunLine(customId: string, code: string, message: string): string {
  return JSON.stringify({ id: `batch_req_${hexId()}`, custom_id: customId, response: null, error: { code, message } });
}

function batchUsage(inputTokens: number): FakeBatchUsage {
  return {
    input_tokens: inputTokens,
    input_tokens_details: { cached_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: inputTokens,
  };
}
