import { MigrationStatus, type DataMigrationService, type MigrationProgress } from '@ai-infrastructure/migration-core';
import { Logger, type MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';

const FINAL = new Set<string>([MigrationStatus.COMPLETED, MigrationStatus.FAILED, MigrationStatus.CANCELLED]);
/** A `heartbeat` event this often keeps proxies with idle timeouts from cutting a quiet stream (a paused job). */
export const HEARTBEAT_MS = 15_000;
const logger = new Logger('MigrationEvents');

/**
 * The event id of a snapshot: it changes exactly when something a watcher sees changes, so a client that
 * reconnects with `Last-Event-ID` gets the next change, not a repeat of what it already has.
 */
export function progressEventId(p: MigrationProgress): string {
  return [p.status, p.progress.total, p.progress.processed, p.skipped, p.progress.failed].join('.');
}

/**
 * Progress snapshots of a job as Server-Sent Events: one at once (unless the client already has it, per
 * `Last-Event-ID`), then one per change, read from the database every `intervalMs`, and a `heartbeat`
 * event (no id, so `Last-Event-ID` is unaffected) every {@link HEARTBEAT_MS}; the stream ends after the
 * snapshot of a final status. Unsubscribing (client gone, app closing) stops the polling.
 */
export function migrationProgressEvents(
  migrations: DataMigrationService,
  jobId: string,
  intervalMs: number,
  lastEventId: string | undefined,
): Observable<MessageEvent> {
  return new Observable<MessageEvent>((subscriber) => {
    let last = lastEventId;
    let timer: NodeJS.Timeout | undefined;
    let stopped = false;
    const heartbeat = setInterval(() => subscriber.next({ type: 'heartbeat', data: { at: new Date().toISOString() } }), HEARTBEAT_MS);
    const tick = async () => {
      try {
        const progress = await migrations.getProgress(jobId);
        if (stopped) return;
        const id = progressEventId(progress);
        if (id !== last) {
          subscriber.next({ id, type: 'progress', data: progress });
          last = id;
        }
        if (FINAL.has(progress.status)) {
          subscriber.complete();
          return;
        }
        timer = setTimeout(() => void tick(), intervalMs);
      } catch (error) {
        // The job vanished (cleanup) or the database is unreachable: end the stream rather than hang it,
        // with a message for the client; the cause (driver and SQL details) goes to the log only.
        if (stopped) return;
        logger.warn(`Progress stream of job ${jobId} ended: ${(error as Error).message}`);
        subscriber.error(new Error('Reading the job failed; reconnect to resume the stream.'));
      }
    };
    void tick();
    return () => {
      stopped = true;
      clearInterval(heartbeat);
      if (timer) clearTimeout(timer);
    };
  });
}
