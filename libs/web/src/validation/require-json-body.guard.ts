import { Injectable, UnsupportedMediaTypeException, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { hasRequestBody, isJsonContentType } from './json-content-type';

/**
 * Answers 415 Unsupported Media Type when a request carries a body that is not JSON (`text/plain`,
 * multipart, a form, or no `Content-Type` at all). Without it such a body is ignored or read as a form:
 * a targeted `retry-failed` sent with the wrong header would retry every failure, and `curl -d '{…}'`
 * (curl's default form type) would be answered with "property {…} should not exist". Requests without a
 * body pass, so routes whose body is optional keep working.
 *
 * A guard rather than an interceptor: it runs before the pipes (so before the ValidationPipe) and does not
 * wrap the handler, which would turn an error thrown before an event stream starts into an empty 200.
 * List it after the authentication guard so that an unauthenticated caller gets 401 first.
 *
 * @example
 * ```ts
 * @UseGuards(BearerAuthGuard, RequireJsonBodyGuard)
 * @Controller('api/ai/migration')
 * export class MigrationController {}
 * ```
 */
@Injectable()
export class RequireJsonBodyGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    if (context.getType() !== 'http') return true;
    const { headers } = context.switchToHttp().getRequest<{ headers: Record<string, string | string[] | undefined> }>();
    const contentType = headers['content-type'];
    if (hasRequestBody(headers) && !isJsonContentType(contentType)) {
      const got = typeof contentType === 'string' && contentType.trim() ? `Content-Type "${contentType.slice(0, 100)}"` : 'no Content-Type header';
      throw new UnsupportedMediaTypeException(
        `The request body must be JSON, but it was sent with ${got}; send the header Content-Type: application/json ` +
          `(with curl: -H 'Content-Type: application/json').`,
      );
    }
    return true;
  }
}
