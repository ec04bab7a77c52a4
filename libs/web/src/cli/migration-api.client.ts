import { createParser, type EventSourceMessage } from 'eventsource-parser';
import { CliError } from './cli.errors';
import { ExitCode } from './cli.exit-codes';
import { FINAL_STATUSES, type ApiError, type ApiProgress } from './migration-api.types';

/** Where the app is and who is calling. */
export interface MigrationApiClientOptions {
  /** Base URL of the app (a path prefix is kept: `https://shop.example.com/backend`). */
  url: URL;
  /** Bearer token; undefined fails every request with a pointer to the ways of giving one. */
  token?: string;
  /** Per-request timeout (not applied to event streams, which are watched for silence instead). */
  timeoutMs: number;
  /** Sent as User-Agent, so access logs tell CLI calls apart. */
  userAgent: string;
}

/** How long an event stream may stay silent (the server sends a heartbeat every 15 s) before it is reopened. */
const STREAM_SILENCE_MS = 45_000;
/** Reopening a dropped event stream (a rolling deploy, a proxy timeout): attempts in a row, and their back-off. */
const STREAM_RECONNECTS = 10;
const STREAM_BACKOFF_MS = [250, 500, 1000, 2000, 4000];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * @internal The HTTP side of `ai-migrate`: JSON requests to `/api/ai/*` with the bearer token in a header
 * (never in a URL or a process list), answers other than 2xx turned into {@link CliError}s carrying the
 * server's message and the matching exit code, and a job's Server-Sent Events followed across dropped
 * connections with `Last-Event-ID`.
 */
export class MigrationApiClient {
  constructor(private readonly options: MigrationApiClientOptions) {}

  /** The absolute URL of an API path, under the base URL's own path. */
  urlOf(path: string): URL {
    const base = this.options.url;
    return new URL(`${base.pathname.replace(/\/+$/, '')}${path}`, base);
  }

  get<T>(path: string, query: Record<string, string | number | undefined> = {}): Promise<T> {
    const url = this.urlOf(path);
    for (const [key, value] of Object.entries(query)) if (value !== undefined) url.searchParams.set(key, String(value));
    return this.send<T>('GET', url);
  }

  post<T>(path: string, body?: unknown): Promise<T> {
    return this.send<T>('POST', this.urlOf(path), body);
  }

  patch<T>(path: string, body: unknown): Promise<T> {
    return this.send<T>('PATCH', this.urlOf(path), body);
  }

  delete(path: string): Promise<void> {
    return this.send<void>('DELETE', this.urlOf(path));
  }

  /**
   * Progress snapshots of a job from `GET /api/ai/migration/jobs/{id}/events`, one per change, ending after
   * the snapshot of a final status (or when the caller stops iterating). A stream that drops or falls
   * silent is reopened with `Last-Event-ID`, so no change is repeated; after {@link STREAM_RECONNECTS}
   * failed attempts in a row the app counts as unreachable.
   */
  async *followJob(jobId: string): AsyncGenerator<ApiProgress> {
    const url = this.urlOf(`/api/ai/migration/jobs/${encodeURIComponent(jobId)}/events`);
    const headers = { ...this.headers(), Accept: 'text/event-stream' };
    let lastEventId: string | undefined;
    let failures = 0;
    let lastProblem = '';
    for (;;) {
      if (failures > 0) {
        if (failures > STREAM_RECONNECTS) {
          throw new CliError(`Lost the event stream of job ${jobId} at ${url.origin} and could not reopen it (${lastProblem}).`, ExitCode.UNREACHABLE);
        }
        await sleep(STREAM_BACKOFF_MS[Math.min(failures - 1, STREAM_BACKOFF_MS.length - 1)]);
      }
      const abort = new AbortController();
      let silence: NodeJS.Timeout | undefined;
      const watch = () => {
        clearTimeout(silence);
        silence = setTimeout(() => abort.abort(new Error(`no event for ${STREAM_SILENCE_MS / 1000} s`)), STREAM_SILENCE_MS);
      };
      try {
        watch();
        let response: Response;
        try {
          response = await fetch(url, {
            headers: lastEventId ? { ...headers, 'Last-Event-ID': lastEventId } : headers,
            signal: abort.signal,
          });
        } catch (error) {
          failures += 1;
          lastProblem = describeFetchFailure(error);
          continue;
        }
        if (!response.ok) {
          const error = await this.errorOf(response, 'GET', url);
          // A restarting app or a busy proxy: try again; anything else (404, 401, 403) is final.
          if (error.exitCode === ExitCode.UNREACHABLE || response.status === 429) {
            failures += 1;
            lastProblem = error.message;
            continue;
          }
          throw error;
        }
        const events: EventSourceMessage[] = [];
        const parser = createParser({ onEvent: (event) => events.push(event) });
        const decoder = new TextDecoder();
        try {
          for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
            watch();
            parser.feed(decoder.decode(chunk, { stream: true }));
            while (events.length > 0) {
              const event = events.shift()!;
              if (event.event === 'error') {
                lastProblem = event.data;
                continue;
              }
              if (event.event !== 'progress') continue;
              failures = 0;
              if (event.id) lastEventId = event.id;
              const progress = JSON.parse(event.data) as ApiProgress;
              yield progress;
              if (FINAL_STATUSES.has(progress.status)) return;
            }
          }
          lastProblem ||= 'the server closed the stream';
        } catch (error) {
          lastProblem = describeFetchFailure(error);
        }
        // The stream ended before a final status: the app is restarting or a proxy cut it.
        failures += 1;
      } finally {
        clearTimeout(silence);
        abort.abort();
      }
    }
  }

  private headers(): Record<string, string> {
    if (!this.options.token) {
      throw new CliError(
        'No token: set AI_MIGRATION_TOKEN, or AI_MIGRATION_TOKEN_FILE / --token-file to a file holding it (--token also works but shows the token in the process list).',
        ExitCode.AUTH,
      );
    }
    return { Authorization: `Bearer ${this.options.token}`, 'User-Agent': this.options.userAgent };
  }

  private async send<T>(method: string, url: URL, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { ...this.headers(), Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let response: Response;
    try {
      response = await fetch(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
    } catch (error) {
      throw new CliError(
        `Cannot reach ${url.origin} (${describeFetchFailure(error)}). Check --url (or AI_MIGRATION_URL) and that the app is running.`,
        ExitCode.UNREACHABLE,
      );
    }
    if (!response.ok) throw await this.errorOf(response, method, url);
    const text = await response.text();
    if (text === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new CliError(`${method} ${url.pathname} answered ${response.status} with a body that is not JSON; is ${url.origin} the app?`, ExitCode.UNREACHABLE);
    }
  }

  /** The error for a non-2xx answer: the server's message and details, and the exit code of its status. */
  private async errorOf(response: Response, method: string, url: URL): Promise<CliError> {
    const text = await response.text().catch(() => '');
    let body: Partial<ApiError> | undefined;
    try {
      body = JSON.parse(text) as Partial<ApiError>;
    } catch {
      body = undefined;
    }
    const status = response.status;
    // Our error filter always answers a sentence with `error`; Nest's default 404 ("Cannot GET /…") means
    // the route is not there at all: AiWebModule or MigrationModule is missing from the app.
    if (status === 404 && (!body || /^Cannot [A-Z]+ \//.test(String(body.message)))) {
      return new CliError(
        `${url.origin} does not serve ${method} ${url.pathname} (404). Is it the app, with AiWebModule and MigrationModule imported? Check --url.`,
        ExitCode.UNREACHABLE,
      );
    }
    const message = typeof body?.message === 'string' ? body.message : `${method} ${url.pathname} failed with HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}.`;
    const details: string[] = [];
    for (const field of body?.details ?? []) details.push(`${field.field}: ${field.message}`);
    if (body?.activeJobIds?.length) details.push(`Active job(s): ${body.activeJobIds.join(', ')} (watch one with: ai-migrate status <id> --watch).`);
    const retryAfter = response.headers.get('retry-after');
    if (status === 429 && retryAfter) details.push(`Retry after ${retryAfter} s.`);
    return new CliError(message, exitCodeOf(status), details);
  }
}

/** The exit code of a non-2xx HTTP status (see {@link ExitCode}). */
export function exitCodeOf(status: number): (typeof ExitCode)[keyof typeof ExitCode] {
  if (status === 401 || status === 403) return ExitCode.AUTH;
  if (status === 404 || status === 409 || status === 429) return ExitCode.REFUSED;
  if (status >= 500) return ExitCode.UNREACHABLE;
  return ExitCode.USAGE;
}

/** Why fetch failed, from undici's cause chain (ECONNREFUSED, ENOTFOUND, a timeout) rather than "fetch failed". */
function describeFetchFailure(error: unknown): string {
  const e = error as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e?.name === 'TimeoutError') return 'no answer in time; raise --timeout if the app is slow';
  if (e?.cause?.code) return e.cause.code;
  return e?.cause?.message ?? e?.message ?? String(error);
}
