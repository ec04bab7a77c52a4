import type { AiApiToken, AiWebModuleOptions } from './ai-web.options';

/** Options of AiWebModule after validation, with defaults applied. */
export interface ResolvedAiWebOptions {
  health: { maxQueueAgeSeconds: number };
  /** `undefined`: not configured (a startup error when the migration endpoints are registered). */
  auth: { disabled: true } | { disabled: false; tokens: AiApiToken[] } | undefined;
  throttle: { limit: number; ttlMs: number } | false;
  events: { intervalMs: number };
}

function fail(key: string, value: unknown, fix: string): never {
  throw new Error(`AiWebModule option "${key}" is ${JSON.stringify(value)}; ${fix}`);
}

function positiveInt(key: string, value: unknown, fallback: number, max: number, unit: string): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    fail(key, value, `use an integer from 1 to ${max} (${unit}; default ${fallback}).`);
  }
  return value;
}

/** Validates AiWebModule options and applies defaults; a bad value fails at startup naming the key and the fix. */
export function resolveAiWebOptions(options: AiWebModuleOptions = {}): ResolvedAiWebOptions {
  const health = { maxQueueAgeSeconds: positiveInt('health.maxQueueAgeSeconds', options.health?.maxQueueAgeSeconds, 900, 86_400 * 30, 'seconds') };
  const events = { intervalMs: positiveInt('events.intervalMs', options.events?.intervalMs, 1000, 60_000, 'milliseconds') };

  let throttle: ResolvedAiWebOptions['throttle'] = { limit: 30, ttlMs: 60_000 };
  if (options.throttle === false) throttle = false;
  else if (options.throttle !== undefined) {
    if (typeof options.throttle !== 'object' || options.throttle === null) fail('throttle', options.throttle, 'use { limit, ttlMs } or false.');
    throttle = {
      limit: positiveInt('throttle.limit', options.throttle.limit, 30, 1_000_000, 'requests per window'),
      ttlMs: positiveInt('throttle.ttlMs', options.throttle.ttlMs, 60_000, 86_400_000, 'window in milliseconds'),
    };
  }

  let auth: ResolvedAiWebOptions['auth'];
  const raw = options.auth as Record<string, unknown> | undefined;
  if (raw !== undefined) {
    if (typeof raw !== 'object' || raw === null) fail('auth', raw, 'use { tokens: [{ name, token, role }] } or { disabled: true }.');
    if (raw.disabled === true) {
      if (raw.tokens !== undefined) fail('auth.tokens', '(set)', 'remove auth.tokens, or remove auth.disabled to use them.');
      auth = { disabled: true };
    } else {
      if (raw.disabled !== undefined && raw.disabled !== false) fail('auth.disabled', raw.disabled, 'use true (no authentication) or leave it out.');
      auth = { disabled: false, tokens: validateTokens(raw.tokens) };
    }
  }
  return { health, auth, throttle, events };
}

function validateTokens(tokens: unknown): AiApiToken[] {
  if (!Array.isArray(tokens) || tokens.length === 0) {
    fail('auth.tokens', tokens === undefined ? undefined : '(invalid)', 'give a non-empty list of { name, token, role }, or set auth: { disabled: true } explicitly.');
  }
  const names = new Set<string>();
  const secrets = new Set<string>();
  return tokens.map((t: Partial<AiApiToken>, i) => {
    const key = `auth.tokens[${i}]`;
    if (typeof t !== 'object' || t === null) fail(key, '(invalid)', 'use { name, token, role }.');
    if (typeof t.name !== 'string' || !/^[\w.@:-]{1,100}$/.test(t.name)) {
      fail(`${key}.name`, t.name, 'use 1 to 100 letters, digits or "_.@:-" (the name is recorded in jobs and the audit log).');
    }
    // The secret is never echoed back, even in an error.
    if (typeof t.token !== 'string' || t.token.length < 16 || t.token.length > 1024 || /\s/.test(t.token)) {
      fail(`${key}.token`, '(hidden)', `the token of "${t.name}" must be 16 to 1024 characters without spaces.`);
    }
    if (t.name === 'anonymous') fail(`${key}.name`, t.name, 'the name "anonymous" stands for requests without authentication; choose another.');
    if (t.role !== 'admin' && t.role !== 'viewer') fail(`${key}.role`, t.role, 'use "admin" or "viewer".');
    if (names.has(t.name)) fail(`${key}.name`, t.name, 'token names must be unique.');
    if (secrets.has(t.token)) fail(`${key}.token`, '(hidden)', `the token of "${t.name}" is also used by another entry; give each entry its own secret.`);
    names.add(t.name);
    secrets.add(t.token);
    return { name: t.name, token: t.token, role: t.role };
  });
}
