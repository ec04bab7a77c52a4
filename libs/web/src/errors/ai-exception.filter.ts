import {
  GenerationGateError,
  GenerationNotFoundError,
  GenerationProviderMissingError,
  GenerationStateError,
  IndexGenerationError,
  IndexingQueueError,
} from '@ai-infrastructure/core';
import { Catch, HttpException, HttpStatus, Logger, type ArgumentsHost, type ExceptionFilter } from '@nestjs/common';
import { loadOptionalPackage, MIGRATION_CORE_PACKAGE } from '../utils/load-package.util';
import type { ErrorResponseDto } from './error-response.dto';

const REASONS: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  409: 'Conflict',
  413: 'Payload Too Large',
  415: 'Unsupported Media Type',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

/**
 * Gives every error of the AI endpoints one body format — `statusCode`, `error`, `message` (a sentence),
 * plus `details` for invalid fields — and maps the migration module's domain errors to HTTP: unknown job
 * 404, invalid state transition 409 (with the current status), unknown entity type 400 (with the known
 * ones), an active job in the way 409 (with its id); and the index generations' errors: unknown generation
 * 404, a state that does not allow the operation 409, a refused quality gate 409 (with the stored report),
 * a provider this instance lacks 409, any other (bad golden queries) 400. Anything else is a 500 whose
 * cause is logged, not sent. Bound to the AI controllers; `configureAiWebApp` also installs it globally,
 * so unknown routes and unparsable bodies answer in the same format.
 */
@Catch()
export class AiExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('AiExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<{
      headersSent?: boolean;
      status(code: number): { json(body: unknown): void };
      end(): void;
    }>();
    const body = this.toBody(exception);
    if (response.headersSent) {
      // An event stream that already started cannot change its status; end it.
      response.end();
      return;
    }
    response.status(body.statusCode).json(body);
  }

  /** The error body for any thrown value. */
  toBody(exception: unknown): ErrorResponseDto {
    if (exception instanceof HttpException) return fromHttpException(exception);
    const migrationError = fromMigrationError(exception);
    if (migrationError) return migrationError;
    if (exception instanceof IndexGenerationError) return fromGenerationError(exception);
    if (exception instanceof IndexingQueueError) return body(400, exception.message);
    const parserError = fromBodyParserError(exception);
    if (parserError) return parserError;
    this.logger.error(`Unhandled error: ${(exception as Error)?.stack ?? String(exception)}`);
    return body(500, 'The server failed to handle the request; the cause is in its log.');
  }
}

type MigrationCore = typeof import('@ai-infrastructure/migration-core');

/** The migration package, `null` when it is not installed; looked up on the first error that needs it. */
let migrationCore: MigrationCore | null | undefined;

/**
 * The migration module's domain errors as HTTP answers. `@ai-infrastructure/migration-core` is an optional
 * peer, so its error classes are required on demand instead of imported: a search-only app that never
 * installed it cannot throw them, and must still load this filter.
 */
function fromMigrationError(exception: unknown): ErrorResponseDto | undefined {
  if (!(exception instanceof Error)) return undefined;
  migrationCore ??= loadOptionalPackage<MigrationCore>(MIGRATION_CORE_PACKAGE) ?? null;
  if (!migrationCore) return undefined;
  const {
    ActiveMigrationExistsError,
    InvalidMigrationRequestError,
    InvalidMigrationStateError,
    MigrationJobNotFoundError,
    TooManyActiveMigrationsError,
    UnknownEntityTypeError,
  } = migrationCore;
  if (exception instanceof MigrationJobNotFoundError) return body(404, exception.message);
  if (exception instanceof InvalidMigrationStateError) return { ...body(409, exception.message), currentStatus: exception.currentStatus };
  if (exception instanceof ActiveMigrationExistsError) return { ...body(409, exception.message), activeJobIds: [exception.activeJobId] };
  if (exception instanceof TooManyActiveMigrationsError) return { ...body(409, exception.message), activeJobIds: exception.activeJobIds };
  if (exception instanceof UnknownEntityTypeError) {
    return {
      ...body(400, exception.message),
      details: [{ field: exception.field, rule: 'knownEntityType', message: exception.message }],
      knownEntityTypes: exception.knownTypes,
    };
  }
  if (exception instanceof InvalidMigrationRequestError) {
    return { ...body(400, exception.message), ...(exception.field ? { details: [{ field: exception.field, rule: 'invalidValue', message: exception.message }] } : {}) };
  }
  return undefined;
}

/** The index generations' errors (core, always installed) as HTTP answers. */
function fromGenerationError(exception: IndexGenerationError): ErrorResponseDto {
  if (exception instanceof GenerationNotFoundError) return body(404, exception.message);
  if (exception instanceof GenerationGateError) {
    // The report says which thresholds failed; null when the gate never ran.
    const refused: ErrorResponseDto & { report: unknown } = { ...body(409, exception.message), report: exception.report ?? null };
    return refused;
  }
  if (exception instanceof GenerationStateError || exception instanceof GenerationProviderMissingError) return body(409, exception.message);
  // The base class carries request problems: golden queries that cannot be read or are invalid.
  return body(400, exception.message);
}

function body(statusCode: number, message: string): ErrorResponseDto {
  return { statusCode, error: REASONS[statusCode] ?? HttpStatus[statusCode] ?? 'Error', message };
}

function fromHttpException(exception: HttpException): ErrorResponseDto {
  const status = exception.getStatus();
  const raw = exception.getResponse();
  if (typeof raw === 'string') return body(status, raw);
  // Members other than the three common ones (details, an application's own `code`, …) are kept.
  const { message: rawMessage, error: _error, statusCode: _statusCode, ...extra } = raw as Record<string, unknown>;
  const message = Array.isArray(rawMessage) ? rawMessage.join('; ') : typeof rawMessage === 'string' ? rawMessage : exception.message;
  return { ...extra, ...body(status, sentence(status, message)) };
}

/**
 * Nest's own messages say what failed but not what to do: its 404 says "Cannot GET /x", and a body that
 * is not JSON reaches us as a 400 carrying only the parser's SyntaxError message.
 */
function sentence(status: number, message: string): string {
  if (status === 404 && /^Cannot [A-Z]+ /.test(message)) return `${message}: no such route. The API is described at /api/docs.`;
  if (status === 400 && isUndecodableParam(message)) return undecodableParam(message);
  if (status === 400 && /\bJSON\b/.test(message) && !message.startsWith('Invalid request:')) {
    return `The request body is not valid JSON (${message}). Send a JSON object with Content-Type: application/json.`;
  }
  return message;
}

/**
 * Client errors raised by Express middleware (body-parser: body too large, unsupported or corrupt
 * content encoding, bad charset, nesting too deep), which carry a 4xx `status` or `statusCode` and
 * `expose` (their message is meant for the client) — with or without a `type`.
 */
function fromBodyParserError(exception: unknown): ErrorResponseDto | undefined {
  const error = exception as { type?: unknown; status?: unknown; statusCode?: unknown; expose?: unknown; message?: unknown; limit?: unknown };
  if (!error || typeof error !== 'object') return undefined;
  const status = typeof error.status === 'number' ? error.status : error.statusCode;
  if (typeof status !== 'number' || status < 400 || status > 499) return undefined;
  if (error.expose !== true && typeof error.type !== 'string') return undefined;
  switch (error.type) {
    case 'entity.parse.failed':
      return body(400, `The request body is not valid JSON (${String(error.message)}). Send a JSON object with Content-Type: application/json.`);
    case 'entity.too.large':
      return body(413, `The request body is larger than the limit of ${String(error.limit)} bytes.`);
    default:
      if (typeof error.message === 'string' && isUndecodableParam(error.message)) return body(400, undecodableParam(error.message));
      return body(status, `The request body could not be read: ${String(error.message)}.`);
  }
}

/** Express's router (not body-parser) refusing a path segment that is not valid percent-encoded UTF-8. */
function isUndecodableParam(message: string): boolean {
  return message.startsWith('Failed to decode param');
}

function undecodableParam(message: string): string {
  return `The request URL could not be decoded (${message}): a path parameter is not valid percent-encoded UTF-8. Encode it with encodeURIComponent.`;
}
