/**
 * Claim order of queue items: higher first. Live writes use HIGH, backfills LOW. `BATCH` is a lane of its
 * own, not a rank: items at exactly that priority (a `mode: 'batch'` backfill's) are embedded through the
 * provider's Batch API and never claimed by the synchronous workers; items below it are never claimed.
 */
export enum IndexingPriority {
  BATCH = -100,
  LOW = 0,
  NORMAL = 50,
  HIGH = 100,
}

/**
 * Asks for an entity's vector to be brought in line with its current row (embedded, re-embedded, or
 * removed when the row no longer exists).
 */
export interface IndexingRequest {
  entityType: string;
  entityId: string | number;
  /** Default NORMAL. */
  priority?: IndexingPriority | number;
  /** Accounting tag, e.g. a migration job id. Items of different owners are tracked separately. */
  owner?: string | null;
  /** Attempts before dead-lettering. Default: the queue's `maxRetries` option. */
  maxRetries?: number;
  /** Re-embed even when the stored content hash matches. Default false. */
  force?: boolean;
}

/** Queue depth and health figures. */
export interface IndexingQueueStats {
  pending: number;
  /** Pending items whose retry delay has not passed yet. */
  delayed: number;
  active: number;
  dead: number;
  /** Age in seconds of the oldest runnable pending item, or null when none. */
  oldestPendingAgeSeconds: number | null;
}

/**
 * The queue's items of one priority in one state (`pending`: runnable now; `delayed`: waiting for a retry
 * delay; `active`: claimed by a worker; `dead`: dead-lettered), with the age of the oldest of them.
 */
export interface IndexingQueueDepth {
  priority: number;
  state: 'pending' | 'delayed' | 'active' | 'dead';
  items: number;
  /** Seconds since the oldest of these items was enqueued. */
  oldestAgeSeconds: number;
}

/**
 * Why items were dead-lettered, from their last error: `auth` (the provider refused the key, 401/403),
 * `rejected-input` (the provider refused the input, 400/413/422), `no-text` (no embeddable text),
 * `rate-limited` and `quota` (retries used up on 429s or an exhausted quota), `provider-error` (5xx,
 * timeouts, outages), `lease-expired` (the worker holding it died too often), `other`.
 */
export type DeadLetterReason = 'auth' | 'rejected-input' | 'no-text' | 'rate-limited' | 'quota' | 'provider-error' | 'lease-expired' | 'other';

/** Dead-lettered items of one reason. */
export interface DeadLetterGroup {
  reason: DeadLetterReason;
  items: number;
  /** When the most recent of them died. */
  lastAt: Date;
  /** The last error of the most recent one. */
  lastError: string | null;
}

/** Items claimed by one worker process (lease owner), as the queue holds them. */
export interface IndexingLeaseOwner {
  /** The worker's id: `host:pid:random` (IndexingWorkerService.workerId). */
  owner: string;
  items: number;
  /** Seconds until the first of its leases expires; negative when one already has (the sweep returns it). */
  nextExpirySeconds: number;
  /** Leases already expired, waiting for the sweep. */
  expired: number;
}

/** A dead-lettered item and why it died. */
export interface DeadLetter {
  id: string;
  entityType: string;
  entityId: string;
  owner: string | null;
  attempts: number;
  lastError: string | null;
  updatedAt: Date;
}
