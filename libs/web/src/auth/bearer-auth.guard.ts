import { createHash, timingSafeEqual } from 'node:crypto';
import { ForbiddenException, Inject, Injectable, Logger, UnauthorizedException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { AI_WEB_OPTIONS } from '../ai-web.constants';
import type { ResolvedAiWebOptions } from '../ai-web-options.resolver';
import { AI_PRINCIPAL_KEY, type AiPrincipal } from './ai-principal';

const READ_METHODS = new Set(['GET', 'HEAD']);

/**
 * Bearer-token authentication and role check of the migration endpoints. Any valid token may read (GET,
 * including the event stream); only `admin` tokens may change anything. The role follows from the HTTP
 * method, so a route added later cannot ship without a guard decision. Tokens are compared as SHA-256
 * digests in constant time, and every configured token is compared, so timing reveals neither a prefix
 * nor which entry matched.
 */
@Injectable()
export class BearerAuthGuard implements CanActivate {
  private readonly digests: Array<{ digest: Buffer; principal: AiPrincipal }>;
  private readonly disabled: boolean;

  constructor(@Inject(AI_WEB_OPTIONS) options: ResolvedAiWebOptions) {
    this.disabled = options.auth?.disabled === true;
    const tokens = options.auth && !options.auth.disabled ? options.auth.tokens : [];
    this.digests = tokens.map((t) => ({ digest: sha256(t.token), principal: { name: t.name, role: t.role } }));
  }

  canActivate(context: ExecutionContext): boolean {
    const http = context.switchToHttp();
    const request = http.getRequest<{ method: string; headers: Record<string, string | undefined> }>();
    const principal = this.disabled ? { name: 'anonymous', role: 'admin' as const } : this.authenticate(request.headers.authorization, http.getResponse());
    (request as Record<string, unknown>)[AI_PRINCIPAL_KEY] = principal;
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
      response.setHeader?.('WWW-Authenticate', 'Bearer realm="ai-migration"');
      throw new UnauthorizedException('This endpoint needs a bearer token: send the header "Authorization: Bearer <token>".');
    }
    const presented = sha256(match[1]);
    let found: AiPrincipal | undefined;
    for (const entry of this.digests) {
      if (timingSafeEqual(entry.digest, presented) && !found) found = entry.principal;
    }
    if (!found) {
      response.setHeader?.('WWW-Authenticate', 'Bearer realm="ai-migration", error="invalid_token"');
      throw new UnauthorizedException('The bearer token is not valid. Use a token configured in AiWebModule auth.tokens.');
    }
    return found;
  }
}

function sha256(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Logs, once per app, that the migration endpoints run without authentication. */
export function warnAuthDisabled(): void {
  new Logger('AiWebModule').warn(
    'Authentication of the migration endpoints is disabled (auth: { disabled: true }): anyone who can reach the server can start, pause and cancel jobs.',
  );
}
