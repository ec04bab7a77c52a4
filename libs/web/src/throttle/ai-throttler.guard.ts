import { Inject, Injectable, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { ThrottlerGuard, type ThrottlerLimitDetail, type ThrottlerModuleOptions, type ThrottlerStorage } from '@nestjs/throttler';
import { AI_WEB_SEARCH_THROTTLER_OPTIONS, AI_WEB_THROTTLER_OPTIONS, AI_WEB_THROTTLER_STORAGE } from '../ai-web.constants';
import { AI_PRINCIPAL_KEY, type AiPrincipal } from '../auth/ai-principal';

/**
 * @nestjs/throttler with its own options and storage, so it neither needs nor disturbs a ThrottlerModule of
 * the application. Runs after the auth guard and counts per caller — the token's name, or the client IP for
 * anonymous callers — in one budget across the routes it guards (`scope`), so one noisy script does not
 * lock out the others.
 */
abstract class AiCallerThrottlerGuard extends ThrottlerGuard {
  protected abstract readonly scope: string;

  protected override async getTracker(request: Record<string, unknown>): Promise<string> {
    const principal = request[AI_PRINCIPAL_KEY] as AiPrincipal | undefined;
    return principal && principal.name !== 'anonymous' ? `token:${principal.name}` : `ip:${String(request.ip)}`;
  }

  /** One budget per caller across the guarded routes (the default key is per route). */
  protected override generateKey(_context: ExecutionContext, tracker: string, throttlerName: string): string {
    return `${this.scope}:${throttlerName}:${tracker}`;
  }
}

/** The changing migration endpoints: `throttle` (default 30 per 60 s per caller). */
@Injectable()
export class AiThrottlerGuard extends AiCallerThrottlerGuard {
  protected readonly scope = 'ai-migration';

  constructor(@Inject(AI_WEB_THROTTLER_OPTIONS) options: ThrottlerModuleOptions, @Inject(AI_WEB_THROTTLER_STORAGE) storage: ThrottlerStorage, reflector: Reflector) {
    super(options, storage, reflector);
  }

  protected override async getErrorMessage(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<string> {
    return (
      `Too many requests: at most ${detail.limit} changing migration requests per ${Math.round(detail.ttl / 1000)} s. ` +
      `Retry after ${Math.max(1, Math.ceil(detail.timeToBlockExpire))} s (see the Retry-After header).`
    );
  }
}

/** `GET /api/ai/search`, one provider request per query: `search.throttle` (default 60 per 60 s per caller). */
@Injectable()
export class AiSearchThrottlerGuard extends AiCallerThrottlerGuard {
  protected readonly scope = 'ai-search';

  constructor(@Inject(AI_WEB_SEARCH_THROTTLER_OPTIONS) options: ThrottlerModuleOptions, @Inject(AI_WEB_THROTTLER_STORAGE) storage: ThrottlerStorage, reflector: Reflector) {
    super(options, storage, reflector);
  }

  protected override async getErrorMessage(_context: ExecutionContext, detail: ThrottlerLimitDetail): Promise<string> {
    return (
      `Too many searches: at most ${detail.limit} per ${Math.round(detail.ttl / 1000)} s for this caller (AiWebModule search.throttle). ` +
      `Retry after ${Math.max(1, Math.ceil(detail.timeToBlockExpire))} s (see the Retry-After header).`
    );
  }
}
