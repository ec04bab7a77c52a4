import { Injectable, Logger } from '@nestjs/common';
import type { MigrationStatus } from './migration-status.enum';

/** A job's status changed: created (`from` null), paused, resumed, completed, failed, cancelled, reopened. */
export interface MigrationJobStatusChange {
  jobId: string;
  from: MigrationStatus | null;
  to: MigrationStatus;
}

/**
 * The status changes of migration jobs made by this instance, for metrics and logs. Reported inside the
 * transaction that makes the change, just before it commits; a listener runs synchronously and must be
 * cheap. A listener that throws is logged and skipped (it never fails the change).
 *
 * @example
 * ```ts
 * app.get(MigrationJobEvents).on((change) => counter.inc({ to: change.to }));
 * ```
 */
@Injectable()
export class MigrationJobEvents {
  private readonly logger = new Logger('MigrationJobEvents');
  private readonly listeners = new Set<(change: MigrationJobStatusChange) => void>();

  /** Adds a listener; returns a function that removes it. */
  on(listener: (change: MigrationJobStatusChange) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** @internal Reports a change to every listener. */
  emit(change: MigrationJobStatusChange): void {
    for (const listener of this.listeners) {
      try {
        listener(change);
      } catch (error) {
        this.logger.warn(`A listener of job status changes failed: ${(error as Error).message}`);
      }
    }
  }
}
