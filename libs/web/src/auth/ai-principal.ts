import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { AiApiRole, AiSearchScope } from '../ai-web.options';

/** Who made a request, as established by the bearer-auth guard. */
export interface AiPrincipal {
  /** The token's configured name ("anonymous" when auth is disabled). */
  name: string;
  role: AiApiRole;
  /** What the token may search (absent: everything). */
  search?: AiSearchScope;
}

/** @internal Where the guard keeps the principal on the request. */
export const AI_PRINCIPAL_KEY = 'aiPrincipal';

/**
 * The authenticated caller of a guarded route.
 *
 * @example
 * ```ts
 * @Post('start') start(@CurrentAiPrincipal() principal: AiPrincipal) { ... }
 * ```
 */
export const CurrentAiPrincipal = createParamDecorator(
  (_data: unknown, context: ExecutionContext): AiPrincipal => context.switchToHttp().getRequest()[AI_PRINCIPAL_KEY],
);
