/** Role of an API token: `admin` may do everything, `viewer` only read (GET, including the event stream). */
export type AiApiRole = 'admin' | 'viewer';

/** A bearer token accepted by the guarded endpoints. Its `name` is what jobs and the audit log record. */
export interface AiApiToken {
  /** Who holds the token (recorded as the job's createdBy and in the audit log), 1..100 characters. */
  name: string;
  /** The secret, at least 16 characters. Never logged or stored. */
  token: string;
  role: AiApiRole;
}

/** Options of {@link AiWebModule}. */
export interface AiWebModuleOptions {
  health?: {
    /** The queue check is down when the oldest runnable item is older than this. Default 900 s. */
    maxQueueAgeSeconds?: number;
  };
  /**
   * Bearer-token authentication of the migration endpoints. Required when the migration module is in the
   * application: either `tokens`, or an explicit `disabled: true` (logged as a warning at startup).
   */
  auth?: { tokens: AiApiToken[]; disabled?: false } | { disabled: true; tokens?: undefined };
  /**
   * Rate limit of the mutating migration endpoints (start, pause, resume, cancel, rethrottle, retry, estimate)
   * per token (per client IP when auth is disabled), with @nestjs/throttler. `false` turns it off.
   * Default 30 requests per 60 s.
   */
  throttle?: { limit: number; ttlMs: number } | false;
  /** Server-Sent Events of `GET /api/ai/migration/jobs/{id}/events`. */
  events?: {
    /** How often the job is read to detect progress. Default 1000 ms. */
    intervalMs?: number;
  };
}
