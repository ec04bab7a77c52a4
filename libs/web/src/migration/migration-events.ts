import { MigrationStatus, type DataMigrationService, type MigrationProgress } from '@ai-infrastructure/migration-core';
import type { MessageEvent } from '@nestjs/common';
import { Observable } from 'rxjs';

const FINAL = new Set<string>([MigrationStatus.COMPLETED, MigrationStatus.FAILED, MigrationStatus.CANCELLED]);

/**
 * The event id of a snapshot: it changes exactly when something a watcher sees changes, so a client that
 * reconnects with `Last-Event-ID` gets the next change, not a repeat of what it already has.
 */
export function progressEventId(p: MigrationProgress): string {
  return [p.status, p.progress.total, p.progress.processed, p.skipped, p.progress.failed].join('.');
}

/**
 * Progress snapshots of a job as Server-Sent Events: one at once (unless the client already has it, per
 * `Last-Event-ID`), then one per change, read from the database every `intervalMs`; the stream ends after
 * the snapshot of a final status. Unsubscribing (client gone, app closing) stops the polling.
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
        // The job vanished (cleanup) or the database is unreachable: end the stream rather than hang it.
        if (!stopped) subscriber.error(error);
      }
    };
    void tick();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  });
}
