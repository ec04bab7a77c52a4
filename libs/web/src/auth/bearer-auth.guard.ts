import { createHash, timingSafeEqual } from 'node:crypto';
import { ForbiddenException, Inject, Injectable, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { AI_WEB_OPTIONS } from '../ai-web.constants';
import type { ResolvedAiWebOptions } from '../ai-web-options.resolver';
import type { AiRouteGroup } from '../ai-web.options';
import { AI_PRINCIPAL_KEY, type AiPrincipal } from './ai-principal';
import { AI_ROUTE_GROUP, type AiGuardedRouteGroup } from './ai-route-group.decorator';

const READ_METHODS = new Set(['GET', 'HEAD']);

/** Groups a `search` token may use. */
const SEARCH_ROLE_GROUPS = new Set<AiGuardedRouteGroup>(['search', 'auth']);

/**
 * Bearer-token authentication and role check of every AiWebModule endpoint. `admin` may do everything;
 * `viewer` may read (GET, including the event stream); `search` may only search. The route group
 * ({@link AiRoutes}) decides which roles may enter and whether `auth.anonymous` lets callers without a
 * token in. Tokens are compared as SHA-256 digests in constant time, and every configured token is
 * compared, so timing reveals neither a prefix nor which entry matched.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly digests: Array<{ digest: Buffer; principal: AiPrincipal }>;
  private readonly disabled: boolean;
  private readonly anonymous: ReadonlySet<AiRouteGroup>;

  constructor(
    @Inject(AI_WEB_OPTIONS) options: ResolvedAiWebOptions,
    private readonly reflector: Reflector,
  ) {
    this.disabled = options.auth.disabled;
    const tokens = options.auth.disabled ? [] : options.auth.tokens;
    this.anonymous = new Set(options.auth.disabled ? [] : options.auth.anonymous);
    this.digests = tokens.map((t) => ({ digest: sha256(t.token), principal: { name: t.name, role: t.role, ...(t.search ? { search: t.search } : {}) } }));
  }

  canActivate(context: ExecutionContext): boolean {
    const group = this.reflector.getAllAndOverride<AiGuardedRouteGroup | undefined>(AI_ROUTE_GROUP, [context.getHandler(), context.getClass()]) ?? 'migration';
    const http = context.switchToHttp();
    const request = http.getRequest<{ method: string; path?: string; url?: string; headers: Record<string, string | undefined> }>();
    const header = request.headers.authorization;
    let principal: AiPrincipal;
    if (this.disabled) principal = { name: 'anonymous', role: 'admin' };
    // An open group still checks a token that is sent, so its search scope applies.
    else if (header === undefined && this.anonymous.has(group as AiRouteGroup)) principal = { name: 'anonymous', role: 'viewer' };
    else principal = this.authenticate(header, http.getResponse());
    (request as Record<string, unknown>)[AI_PRINCIPAL_KEY] = principal;
    if (principal.role === 'search' && !SEARCH_ROLE_GROUPS.has(group)) {
      throw new ForbiddenException(
        `The token "${principal.name}" has the role "search", which may only search (GET /api/ai/search). ${request.method} ${request.path ?? request.url ?? ''} needs a viewer or admin token.`,
      );
    }
    if (!READ_METHODS.has(request.method) && principal.role !== 'admin') {
      throw new ForbiddenException(
        `The token "${principal.name}" has the role "${principal.role}", which may only read (GET). ${request.method} needs a token with the role "admin".`,
      );
    }
    return true;
  }

  private authenticate(header: string | undefined, response: { setHeader?(name: string, value: string): void }): AiPrincipal {
    const match = typeof header === 'string' ? /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header) : null;
    if (!match) {
      response.setHeader?.('WWW-Authenticate', 'Bearer realm="ai"');
      throw new UnauthorizedException('This endpoint needs a bearer token: send the header "Authorization: Bearer <token>".');
    }
    const presented = sha256(match[1]);
    let found: AiPrincipal | undefined;
    for (const entry of this.digests) {
      if (timingSafeEqual(entry.digest, presented) && !found) found = entry.principal;
    }
    if (!found) {
      response.setHeader?.('WWW-Authenticate', 'Bearer realm="ai", error="invalid_token"');
      throw new UnauthorizedException('The bearer token is not valid. Use a token configured in AiWebModule auth.tokens.');
    }
    return found;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}
