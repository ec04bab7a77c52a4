import { SyncEvents } from '@ai-infrastructure/core/internal';
import { Injectable } from '@nestjs/common';
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
export class MigrationJobEvents extends SyncEvents<MigrationJobStatusChange> {
  constructor() {
    super('MigrationJobEvents', 'job status changes');
  }
}
