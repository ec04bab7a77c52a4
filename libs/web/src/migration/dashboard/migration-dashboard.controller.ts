import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Controller, Get, Header } from '@nestjs/common';
import { ApiExcludeEndpoint, ApiOkResponse, ApiOperation, ApiProduces, ApiTags } from '@nestjs/swagger';

/**
 * The page's Content-Security-Policy: its own scripts, styles and API only — no inline code, no other
 * origin, no framing, no form posts (the page's forms are handled by its script).
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

/** Headers of the page and its assets. */
const SECURITY_HEADERS: Array<[string, string]> = [
  ['Content-Security-Policy', DASHBOARD_CSP],
  ['X-Content-Type-Options', 'nosniff'],
  ['Referrer-Policy', 'no-referrer'],
  ['X-Frame-Options', 'DENY'],
  ['Cache-Control', 'no-cache'],
];

function SecurityHeaders(): MethodDecorator {
  return (target, key, descriptor) => {
    for (const [name, value] of SECURITY_HEADERS) Header(name, value)(target, key, descriptor);
  };
}

const assets = new Map<string, string>();

/** A file the page loads, read once and kept (they are small and never change while the app runs). */
function cached(name: string, path: () => string): string {
  let text = assets.get(name);
  if (text === undefined) {
    text = readFileSync(path(), 'utf8');
    assets.set(name, text);
  }
  return text;
}

/** A file of the page, from `assets/` beside this file (copied into dist by the build). */
const asset = (name: string) => cached(name, () => join(__dirname, 'assets', name));

/** The browser build (ES module) of eventsource-parser, the library the CLI parses the event stream with too. */
const eventSourceParser = () => cached('eventsource-parser.js', () => join(dirname(require.resolve('eventsource-parser')), 'index.js'));

/**
 * `GET /api/ai/migration/dashboard`: the operator's page — jobs with live progress, generations, and for
 * admin tokens the buttons that start, pause, resume, cancel, rethrottle, cut over and roll back. Registered
 * with the migration routes (same gate). The page and its assets hold no data and need no token; the page
 * asks for one and sends it only in the Authorization header of its API calls. Everything it loads comes
 * from this app (strict Content-Security-Policy, no third-party requests).
 */
@ApiTags('migration')
@Controller('api/ai/migration/dashboard')
export class MigrationDashboardController {
  @Get()
  @SecurityHeaders()
  @Header('Content-Type', 'text/html; charset=utf-8')
  @ApiOperation({
    summary: 'Migration dashboard (HTML page)',
    description:
      'A page for a browser: active and recent jobs with live progress, rate, ETA, failures and spend; generations and which one serves; ' +
      'controls for admin tokens. Sign in with a bearer token (kept for the browser tab only). No token is needed to load the page itself.',
  })
  @ApiProduces('text/html')
  @ApiOkResponse({ description: 'The page.', schema: { type: 'string' } })
  page(): string {
    return asset('dashboard.html');
  }

  @Get('assets/dashboard.js')
  @SecurityHeaders()
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @ApiExcludeEndpoint()
  script(): string {
    return asset('dashboard.js');
  }

  @Get('assets/dashboard.css')
  @SecurityHeaders()
  @Header('Content-Type', 'text/css; charset=utf-8')
  @ApiExcludeEndpoint()
  styles(): string {
    return asset('dashboard.css');
  }

  @Get('assets/eventsource-parser.js')
  @SecurityHeaders()
  @Header('Content-Type', 'text/javascript; charset=utf-8')
  @ApiExcludeEndpoint()
  parser(): string {
    return eventSourceParser();
  }
}
