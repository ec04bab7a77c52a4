/**
 * Role of an API token: `admin` may do everything; `viewer` may read everything (GET: search, monitoring,
 * jobs, the audit log, the event stream); `search` may only search (`GET /api/ai/search`) — give it to the
 * front end or service that queries, so that token cannot read jobs, metrics or the audit log.
 */
export type AiApiRole = 'admin' | 'viewer' | 'search';

/** The route groups of AiWebModule, for {@link AiWebModuleOptions.auth} `anonymous`. */
export type AiRouteGroup = 'search' | 'health' | 'monitoring';

/**
 * What a token may search. Absent: every entity type and every metadata field. The search endpoint
 * answers 403 for an entity type or a filter field outside these lists and leaves other metadata fields out
 * of the results.
 */
export interface AiSearchScope {
  /** Entity types this token may search. */
  entityTypes?: string[];
  /** Per entity type, the metadata fields it may filter on and see in results (an entity type not listed: all). */
  fields?: Record<string, string[]>;
}

/** A bearer token accepted by the guarded endpoints. Its `name` is what jobs and the audit log record. */
export interface AiApiToken {
  /** Who holds the token (recorded as the job's createdBy and in the audit log), 1..100 characters. */
  name: string;
  /** The secret, at least 16 characters. Never logged or stored. */
  token: string;
  role: AiApiRole;
  /** Restricts what the token may search (any role); default: everything. */
  search?: AiSearchScope;
}

/** Options of {@link AiWebModule}. */
export interface AiWebModuleOptions {
  health?: {
    /** The queue check is down when the oldest runnable item is older than this. Default 900 s. */
    maxQueueAgeSeconds?: number;
  };
  /**
   * Bearer-token authentication of every endpoint (search, monitoring, migration, audit). Required: either
   * `tokens`, or an explicit `disabled: true` (logged as a warning at startup). `anonymous` opens route
   * groups to callers without a token — e.g. `['health']` for load-balancer probes — each logged at startup;
   * a token sent anyway is still checked (and its search scope applied).
   */
  auth?: { tokens: AiApiToken[]; disabled?: false; anonymous?: AiRouteGroup[] } | { disabled: true; tokens?: undefined; anonymous?: undefined };
  /**
   * Rate limit of the mutating migration endpoints (start, pause, resume, cancel, rethrottle, retry, estimate)
   * per token (per client IP when auth is disabled), with @nestjs/throttler. `false` turns it off.
   * Default 30 requests per 60 s.
   */
  throttle?: { limit: number; ttlMs: number } | false;
  /**
   * `GET /api/ai/search`: each query costs one embedding-provider request, so searches are rate limited per
   * caller (token name; client IP for anonymous callers). Default 60 per 60 s; `false` turns it off.
   */
  search?: {
    throttle?: { limit: number; ttlMs: number } | false;
  };
  /** Server-Sent Events of `GET /api/ai/migration/jobs/{id}/events`. */
  events?: {
    /** How often the job is read to detect progress. Default 1000 ms. */
    intervalMs?: number;
  };
}
