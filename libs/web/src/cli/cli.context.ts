import { readFileSync } from 'node:fs';
import { CliError, usageError } from './cli.errors';
import { ExitCode, type ExitCodeValue } from './cli.exit-codes';
import { count, elapsed, seconds, usd } from './cli.format';
import { createProgressReporter, type ProgressStyle } from './job-progress.reporter';
import { MigrationApiClient } from './migration-api.client';
import type { ApiProgress } from './migration-api.types';

/** The options every command accepts (declared on the program). */
export interface GlobalOptions {
  url: string;
  token?: string;
  tokenFile?: string;
  json?: boolean;
  timeout: number;
  logInterval: number;
}

/** Streams a command writes to (the process's own, or a test's). */
export interface CliStreams {
  stdout: NodeJS.WriteStream;
  stderr: NodeJS.WriteStream;
}

/**
 * @internal What a command needs: the API client for the global options, and the output in the chosen
 * form (a human rendering, or the API's JSON with `--json`).
 */
export class CliContext {
  readonly client: MigrationApiClient;
  readonly json: boolean;

  constructor(
    private readonly options: GlobalOptions,
    private readonly streams: CliStreams,
    /** Where --token and --token-file came from: `cli` (a flag), `env` (the environment) or `default`. */
    sources: { token?: string; tokenFile?: string },
    version: string,
  ) {
    this.json = options.json === true;
    let url: URL;
    try {
      url = new URL(options.url);
    } catch {
      throw usageError(`--url (or AI_MIGRATION_URL) must be the app's base URL, such as http://localhost:3000; got "${options.url}".`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw usageError(`--url (or AI_MIGRATION_URL) must be an http:// or https:// URL; got "${options.url}".`);
    if (sources.token === 'cli') {
      this.warn('--token shows the token to anyone who can list processes; prefer AI_MIGRATION_TOKEN or --token-file.');
    }
    this.client = new MigrationApiClient({ url, token: readToken(options, sources), timeoutMs: options.timeout * 1000, userAgent: `ai-migrate/${version}` });
  }

  /** Prints an answer: its JSON with `--json` (one line), the human rendering otherwise. */
  print<T>(value: T, human: (value: T) => string): void {
    this.streams.stdout.write(this.json ? `${JSON.stringify(value)}\n` : `${human(value)}\n`);
  }

  /** A line for people (left out with `--json`, whose stdout holds only JSON). */
  say(text: string): void {
    if (!this.json) this.streams.stdout.write(`${text}\n`);
  }

  warn(text: string): void {
    this.streams.stderr.write(`Warning: ${text}\n`);
  }

  /** How progress is shown: JSON lines with `--json`, a bar when stdout is a terminal, timestamped lines otherwise. */
  get progressStyle(): ProgressStyle {
    if (this.json) return 'json';
    return this.streams.stdout.isTTY ? 'bar' : 'lines';
  }

  /**
   * Follows a job's event stream until it is COMPLETED, FAILED, CANCELLED or PAUSED, showing progress,
   * then prints how it ended and what to do next. Ctrl-C stops watching (the job goes on).
   * Returns the exit code of the outcome.
   */
  async follow(jobId: string): Promise<ExitCodeValue> {
    const reporter = createProgressReporter(this.progressStyle, this.streams.stdout, this.options.logInterval * 1000);
    let last: ApiProgress | undefined;
    const interrupt = () => {
      reporter.stop();
      this.streams.stderr.write(`\nStopped watching; job ${jobId} goes on (watch it again with: ai-migrate status ${jobId} --watch).\n`);
      process.exit(130);
    };
    process.once('SIGINT', interrupt);
    try {
      for await (const progress of this.client.followJob(jobId)) {
        last = progress;
        reporter.update(progress);
        if (progress.status === 'PAUSED') break;
      }
    } finally {
      reporter.stop();
      process.removeListener('SIGINT', interrupt);
    }
    if (!last) throw new CliError(`The event stream of job ${jobId} ended without a snapshot.`, ExitCode.UNREACHABLE);
    this.say(outcomeText(last));
    return outcomeCode(last);
  }
}

/**
 * The bearer token: a flag before the environment, and in each the token itself before a file holding it
 * (--token, --token-file, AI_MIGRATION_TOKEN, AI_MIGRATION_TOKEN_FILE).
 */
function readToken(options: GlobalOptions, sources: { token?: string; tokenFile?: string }): string | undefined {
  const precedence: Array<['token' | 'file', string | undefined]> = [
    ['token', sources.token === 'cli' ? options.token : undefined],
    ['file', sources.tokenFile === 'cli' ? options.tokenFile : undefined],
    ['token', sources.token === 'env' ? options.token : undefined],
    ['file', sources.tokenFile === 'env' ? options.tokenFile : undefined],
  ];
  const [kind, value] = precedence.find(([, v]) => v !== undefined && v.trim() !== '') ?? ['token', undefined];
  if (kind === 'token') return value?.trim();
  const file = value!;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new CliError(`Cannot read the token file ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); check --token-file or AI_MIGRATION_TOKEN_FILE.`, ExitCode.AUTH);
  }
  const token = text.trim();
  if (!token) throw new CliError(`The token file ${file} is empty; write the bearer token into it.`, ExitCode.AUTH);
  return token;
}

/** The exit code of a job's last snapshot. */
export function outcomeCode(p: ApiProgress): ExitCodeValue {
  if (p.status === 'PAUSED') return ExitCode.PAUSED;
  if (p.status === 'COMPLETED') return p.progress.failed > 0 ? ExitCode.JOB_FAILED : ExitCode.OK;
  if (p.status === 'FAILED' || p.status === 'CANCELLED') return ExitCode.JOB_FAILED;
  return ExitCode.OK;
}

/** One sentence on how a followed job ended, and the next command where there is one. */
export function outcomeText(p: ApiProgress): string {
  const id = p.jobId;
  const took = seconds(elapsed(p.startedAt, p.completedAt ?? p.lastUpdatedAt));
  const spend = `${count(p.usage.tokensUsed)} tokens, ${usd(p.usage.estimatedCost)}`;
  const done = `${count(p.progress.processed)} processed, ${count(p.skipped)} skipped, ${count(p.progress.failed)} failed of ${count(p.progress.total)}`;
  switch (p.status) {
    case 'COMPLETED':
      return p.progress.failed > 0
        ? `Job ${id} COMPLETED with failures: ${done} in ${took}; ${spend}. List them with: ai-migrate failures ${id}; retry them with: ai-migrate retry-failed ${id} --wait`
        : `Job ${id} COMPLETED: ${done} in ${took}; ${spend}.`;
    case 'FAILED':
      return `Job ${id} FAILED: ${p.errorMessage ?? 'no reason recorded'} (${done}; ${spend}).`;
    case 'CANCELLED':
      return `Job ${id} was CANCELLED (${done}; ${spend}).`;
    case 'PAUSED': {
      const next =
        p.pauseReason === 'BUDGET_EXCEEDED'
          ? `raise its budget with: ai-migrate rethrottle ${id} --max-cost <usd> (or --max-tokens), then: ai-migrate resume ${id} --wait`
          : `resume it with: ai-migrate resume ${id} --wait`;
      return `Job ${id} is PAUSED${p.pauseReason ? ` (${p.pauseReason})` : ''} at ${p.progress.percentComplete.toFixed(1)}% (${done}); ${next}`;
    }
    default:
      return `Job ${id} is ${p.status} (${done}).`;
  }
}
