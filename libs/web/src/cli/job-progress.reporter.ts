import { SingleBar } from 'cli-progress';
import { count, duration, usd } from './cli.format';
import type { ApiProgress } from './migration-api.types';

/** Shows a followed job's progress snapshots. */
export interface JobProgressReporter {
  update(progress: ApiProgress): void;
  /** Ends the display (restores the cursor); called once, also when following fails. */
  stop(): void;
}

/** How `--watch` and `--wait` show progress: a bar on a terminal, timestamped lines in logs, JSON for scripts. */
export type ProgressStyle = 'bar' | 'lines' | 'json';

/** What the bar and the lines show of a snapshot (names unlike cli-progress's own: value, total, eta, percentage). */
function figures(p: ApiProgress) {
  return {
    status: p.pauseReason ? `${p.status} (${p.pauseReason})` : p.status,
    percent: p.progress.percentComplete.toFixed(1),
    processed: count(p.progress.processed),
    entities: count(p.progress.total),
    skipped: count(p.skipped),
    failed: count(p.progress.failed),
    rate: `${p.throughput.toFixed(1)}/s`,
    remaining: duration(p.progress.estimatedTimeRemaining),
    spend: usd(p.usage.estimatedCost),
  };
}

/** A bar redrawn in place (cli-progress), for a person at a terminal. */
class BarReporter implements JobProgressReporter {
  private readonly bar: SingleBar;
  private started = false;

  constructor(stream: NodeJS.WriteStream) {
    this.bar = new SingleBar({
      stream,
      format: '{bar} {percent}% | {processed}/{entities} processed, {skipped} skipped | {rate} | ETA {remaining} | failed {failed} | {spend} | {status}',
      barCompleteChar: '\u2588',
      barIncompleteChar: '\u2591',
      barsize: 24,
      hideCursor: true,
      fps: 5,
    });
  }

  update(p: ApiProgress): void {
    // The bar runs on the server's percentage (processed + skipped + failed of total), in tenths.
    const value = Math.round(p.progress.percentComplete * 10);
    if (!this.started) {
      this.bar.start(1000, value, figures(p));
      this.started = true;
    } else {
      this.bar.update(value, figures(p));
    }
  }

  stop(): void {
    if (this.started) this.bar.stop();
    this.started = false;
  }
}

/**
 * One timestamped line per snapshot, at most one per `intervalMs` unless the status changes (the first
 * and the final snapshot always print), so a long job's CI log stays readable.
 */
class LineReporter implements JobProgressReporter {
  private lastAt = 0;
  private lastStatus = '';

  constructor(
    private readonly stream: NodeJS.WritableStream,
    private readonly intervalMs: number,
  ) {}

  update(p: ApiProgress): void {
    const now = Date.now();
    const status = p.status + (p.pauseReason ?? '');
    if (status === this.lastStatus && now - this.lastAt < this.intervalMs && p.status === 'RUNNING') return;
    this.lastAt = now;
    this.lastStatus = status;
    const f = figures(p);
    this.stream.write(
      `${new Date(now).toISOString()} job ${p.jobId} ${f.status} ${f.percent}% processed ${f.processed}/${f.entities} skipped ${f.skipped} failed ${f.failed} rate ${f.rate} ETA ${f.remaining} spend ${f.spend}\n`,
    );
  }

  stop(): void {}
}

/** Each snapshot as one line of JSON, exactly as the server sent it. */
class JsonReporter implements JobProgressReporter {
  constructor(private readonly stream: NodeJS.WritableStream) {}

  update(p: ApiProgress): void {
    this.stream.write(`${JSON.stringify(p)}\n`);
  }

  stop(): void {}
}

/** The reporter of a style, writing to `stream`. */
export function createProgressReporter(style: ProgressStyle, stream: NodeJS.WriteStream, intervalMs: number): JobProgressReporter {
  if (style === 'bar') return new BarReporter(stream);
  if (style === 'json') return new JsonReporter(stream);
  return new LineReporter(stream, intervalMs);
}
