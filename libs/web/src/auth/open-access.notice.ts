import { Inject, Injectable, Logger, type OnApplicationBootstrap } from '@nestjs/common';
import { AI_WEB_OPTIONS } from '../ai-web.constants';
import type { ResolvedAiWebOptions } from '../ai-web-options.resolver';
import type { AiRouteGroup } from '../ai-web.options';

/** What each route group exposes to anonymous callers, for the startup warning. */
const ANONYMOUS_EXPOSURE: Record<AiRouteGroup, string> = {
  search: 'GET /api/ai/search: anyone who can reach the server can read the ids and metadata of every indexed entity and spend the embedding budget (throttled per client IP by search.throttle)',
  health: 'GET /api/ai/monitoring/health: anyone can see whether the database, the queue and the provider are up (fine for load-balancer probes)',
  monitoring: 'GET /api/ai/monitoring/metrics, /queue and /provider: anyone can read queue depths, provider errors and spend',
};

/** Logs, at startup, what runs without authentication: everything (auth.disabled) or the groups of auth.anonymous. */
export function logOpenAccess(options: ResolvedAiWebOptions, logger = new Logger('AiWebModule')): void {
  if (options.auth.disabled) {
    logger.warn(
      'Authentication is disabled (auth: { disabled: true }): anyone who can reach the server can search, read the monitoring routes, and start, pause and cancel jobs.',
    );
    return;
  }
  for (const group of options.auth.anonymous) logger.warn(`Anonymous access is on for "${group}" (auth.anonymous): ${ANONYMOUS_EXPOSURE[group]}.`);
}

/** @internal Logs {@link logOpenAccess} once, when the application starts. */
@Injectable()
export class OpenAccessNotice implements OnApplicationBootstrap {
  constructor(@Inject(AI_WEB_OPTIONS) private readonly options: ResolvedAiWebOptions) {}

  onApplicationBootstrap(): void {
    logOpenAccess(this.options);
  }
}
