import type { AiApiToken, AiRouteGroup, AiSearchScope, AiWebModuleOptions } from './ai-web.options';

/** Route groups that `auth.anonymous` may open. */
export const AI_ROUTE_GROUPS: readonly AiRouteGroup[] = ['search', 'health', 'monitoring'];

/** Options of AiWebModule after validation, with defaults applied. */
export interface ResolvedAiWebOptions {
  health: { maxQueueAgeSeconds: number };
  auth: { disabled: true } | { disabled: false; tokens: AiApiToken[]; anonymous: AiRouteGroup[] };
  throttle: { limit: number; ttlMs: number } | false;
  search: { throttle: { limit: number; ttlMs: number } | false };
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

  const throttle = throttleOption('throttle', options.throttle, 30);
  if (options.search !== undefined && (typeof options.search !== 'object' || options.search === null)) fail('search', options.search, 'use { throttle: { limit, ttlMs } } or leave it out.');
  const search = { throttle: throttleOption('search.throttle', options.search?.throttle, 60) };

  const raw = options.auth as Record<string, unknown> | undefined;
  if (raw === undefined) {
    fail(
      'auth',
      undefined,
      'every AiWebModule endpoint (search, monitoring, migration) needs bearer tokens, so without them it would be open to anyone. ' +
        'Configure them: auth: { tokens: [{ name: "ops", token: "<secret>", role: "admin" }] } (roles admin, viewer, search); open single ' +
        'route groups with auth.anonymous (e.g. ["health"]); or turn authentication off explicitly with auth: { disabled: true }.',
    );
  }
  if (typeof raw !== 'object' || raw === null) fail('auth', raw, 'use { tokens: [{ name, token, role }] } or { disabled: true }.');
  let auth: ResolvedAiWebOptions['auth'];
  if (raw.disabled === true) {
    if (raw.tokens !== undefined) fail('auth.tokens', '(set)', 'remove auth.tokens, or remove auth.disabled to use them.');
    if (raw.anonymous !== undefined) fail('auth.anonymous', raw.anonymous, 'with auth.disabled every route is open already; remove auth.anonymous.');
    auth = { disabled: true };
  } else {
    if (raw.disabled !== undefined && raw.disabled !== false) fail('auth.disabled', raw.disabled, 'use true (no authentication) or leave it out.');
    auth = { disabled: false, tokens: validateTokens(raw.tokens), anonymous: validateAnonymous(raw.anonymous) };
  }
  return { health, auth, throttle, search, events };
}

/** A `{ limit, ttlMs } | false` option. */
function throttleOption(key: string, value: unknown, defaultLimit: number): { limit: number; ttlMs: number } | false {
  if (value === false) return false;
  if (value === undefined) return { limit: defaultLimit, ttlMs: 60_000 };
  if (typeof value !== 'object' || value === null) fail(key, value, 'use { limit, ttlMs } or false.');
  const v = value as { limit?: unknown; ttlMs?: unknown };
  return {
    limit: positiveInt(`${key}.limit`, v.limit, defaultLimit, 1_000_000, 'requests per window'),
    ttlMs: positiveInt(`${key}.ttlMs`, v.ttlMs, 60_000, 86_400_000, 'window in milliseconds'),
  };
}

function validateAnonymous(value: unknown): AiRouteGroup[] {
  if (value === undefined) return [];
  if (!Array.isArray(value)) fail('auth.anonymous', value, `use a list of route groups (${AI_ROUTE_GROUPS.join(', ')}), e.g. ["health"].`);
  for (const [i, group] of value.entries()) {
    if (!AI_ROUTE_GROUPS.includes(group)) {
      fail(
        `auth.anonymous[${i}]`,
        group,
        `use one of ${AI_ROUTE_GROUPS.join(', ')}. The migration, audit and auth routes always need a token (or auth: { disabled: true }).`,
      );
    }
  }
  return [...new Set(value as AiRouteGroup[])];
}

function validateScope(key: string, scope: unknown): AiSearchScope | undefined {
  if (scope === undefined) return undefined;
  if (typeof scope !== 'object' || scope === null || Array.isArray(scope)) fail(key, scope, 'use { entityTypes?: string[], fields?: { <entityType>: string[] } }.');
  const { entityTypes, fields, ...rest } = scope as Record<string, unknown>;
  const unknownKey = Object.keys(rest)[0];
  if (unknownKey !== undefined) fail(`${key}.${unknownKey}`, rest[unknownKey], 'remove it: a search scope has entityTypes and fields.');
  const names = (k: string, list: unknown): string[] => {
    if (!Array.isArray(list) || list.some((v) => typeof v !== 'string' || v.trim() === '')) fail(k, list, 'use a list of names (strings).');
    return [...new Set(list as string[])];
  };
  const out: AiSearchScope = {};
  if (entityTypes !== undefined) out.entityTypes = names(`${key}.entityTypes`, entityTypes);
  if (fields !== undefined) {
    if (typeof fields !== 'object' || fields === null || Array.isArray(fields)) fail(`${key}.fields`, fields, 'use { <entityType>: ["field", ...] }.');
    out.fields = Object.fromEntries(Object.entries(fields).map(([type, list]) => [type, names(`${key}.fields.${type}`, list)]));
  }
  return out;
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
    if (t.role !== 'admin' && t.role !== 'viewer' && t.role !== 'search') fail(`${key}.role`, t.role, 'use "admin", "viewer" or "search".');
    const search = validateScope(`${key}.search`, t.search);
    if (names.has(t.name)) fail(`${key}.name`, t.name, 'token names must be unique.');
    if (secrets.has(t.token)) fail(`${key}.token`, '(hidden)', `the token of "${t.name}" is also used by another entry; give each entry its own secret.`);
    names.add(t.name);
    secrets.add(t.token);
    return { name: t.name, token: t.token, role: t.role, ...(search ? { search } : {}) };
  });
}
