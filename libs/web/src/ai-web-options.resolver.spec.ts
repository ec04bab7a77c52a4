import { AiWebModule } from './ai-web.module';
import { resolveAiWebOptions } from './ai-web-options.resolver';

describe('resolveAiWebOptions', () => {
  const token = (over: Record<string, unknown> = {}) => ({ name: 'ops', token: 'a-secret-of-enough-length', role: 'admin', ...over });

  it('applies the defaults', () => {
    expect(resolveAiWebOptions({ auth: { tokens: [token() as never] } })).toEqual({
      health: { maxQueueAgeSeconds: 900 },
      auth: { disabled: false, tokens: [token()], anonymous: [] },
      throttle: { limit: 30, ttlMs: 60_000 },
      search: { throttle: { limit: 60, ttlMs: 60_000 } },
      events: { intervalMs: 1000 },
    });
  });

  it('requires auth: every route would be open without it', () => {
    expect(() => resolveAiWebOptions({})).toThrow(/"auth" is undefined; every AiWebModule endpoint \(search, monitoring, migration\) needs bearer tokens.*auth: \{ disabled: true \}/);
    expect(() => AiWebModule.forRoot()).toThrow(/"auth" is undefined/);
  });

  it('accepts the search role, search scopes, anonymous route groups and a search throttle', () => {
    const resolved = resolveAiWebOptions({
      auth: {
        tokens: [token({ role: 'search', search: { entityTypes: ['product'], fields: { product: ['category', 'price'] } } }) as never],
        anonymous: ['health', 'health', 'search'],
      },
      search: { throttle: { limit: 5, ttlMs: 1000 } },
    });
    expect(resolved.auth).toEqual({
      disabled: false,
      tokens: [token({ role: 'search', search: { entityTypes: ['product'], fields: { product: ['category', 'price'] } } })],
      anonymous: ['health', 'search'],
    });
    expect(resolved.search).toEqual({ throttle: { limit: 5, ttlMs: 1000 } });
    expect(resolveAiWebOptions({ auth: { disabled: true }, search: { throttle: false } }).search).toEqual({ throttle: false });
  });

  it.each([
    [{ health: { maxQueueAgeSeconds: 0 } }, /"health.maxQueueAgeSeconds" is 0; use an integer from 1/],
    [{ throttle: { limit: -1, ttlMs: 1000 } }, /"throttle.limit" is -1/],
    [{ throttle: { limit: 5, ttlMs: 1.5 } }, /"throttle.ttlMs" is 1.5/],
    [{ events: { intervalMs: 'fast' } }, /"events.intervalMs" is "fast"/],
    [{ auth: { tokens: [] } }, /"auth.tokens" is "\(invalid\)"; give a non-empty list/],
    [{ auth: {} }, /"auth.tokens" is undefined; give a non-empty list .* auth: \{ disabled: true \}/],
    [{ auth: { tokens: [token({ role: 'root' })] } }, /"auth.tokens\[0\].role" is "root"; use "admin", "viewer" or "search"/],
    [{ auth: { tokens: [token()], anonymous: ['migration'] } }, /"auth.anonymous\[0\]" is "migration"; use one of search, health, monitoring\. The migration, audit and auth routes always need a token/],
    [{ auth: { tokens: [token()], anonymous: 'search' } }, /"auth.anonymous" is "search"; use a list of route groups/],
    [{ auth: { disabled: true, anonymous: ['search'] } }, /"auth.anonymous" is \["search"\]; with auth.disabled every route is open already/],
    [{ auth: { tokens: [token({ search: { entityTypes: 'product' } })] } }, /"auth.tokens\[0\].search.entityTypes" is "product"; use a list of names/],
    [{ auth: { tokens: [token({ search: { fields: { product: [''] } } })] } }, /"auth.tokens\[0\].search.fields.product" is \[""\]; use a list of names/],
    [{ auth: { tokens: [token({ search: { types: ['product'] } })] } }, /"auth.tokens\[0\].search.types" is \["product"\]; remove it: a search scope has entityTypes and fields/],
    [{ auth: { tokens: [token()] }, search: { throttle: { limit: 0, ttlMs: 1000 } } }, /"search.throttle.limit" is 0/],
    [{ auth: { tokens: [token({ name: 'has space' })] } }, /"auth.tokens\[0\].name" is "has space"/],
    [{ auth: { tokens: [token({ name: 'anonymous' })] } }, /"auth.tokens\[0\].name" is "anonymous"; the name "anonymous" stands for requests without authentication/],
    [{ auth: { tokens: [token(), token({ token: 'another-secret-long-enough' })] } }, /"auth.tokens\[1\].name" is "ops"; token names must be unique/],
    [{ auth: { tokens: [token(), token({ name: 'ci' })] } }, /"auth.tokens\[1\].token" is "\(hidden\)"; the token of "ci" is also used/],
    [{ auth: { disabled: true, tokens: [token()] } }, /"auth.tokens" is "\(set\)"; remove auth.tokens/],
  ])('rejects %j naming the key', (options, message) => {
    expect(() => resolveAiWebOptions(options as never)).toThrow(message);
    expect(() => AiWebModule.forRoot(options as never)).toThrow(message);
  });

  it('never echoes a token secret in an error', () => {
    const secret = 'short';
    expect(() => resolveAiWebOptions({ auth: { tokens: [{ name: 'ops', token: secret, role: 'admin' }] } })).toThrow(/"auth.tokens\[0\].token" is "\(hidden\)"; the token of "ops" must be 16 to 1024 characters/);
    try {
      resolveAiWebOptions({ auth: { tokens: [{ name: 'ops', token: secret, role: 'admin' }] } });
    } catch (error) {
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it('accepts tokens and an explicit throttle: false', () => {
    const resolved = resolveAiWebOptions({ auth: { tokens: [token() as never] }, throttle: false });
    expect(resolved.auth).toEqual({ disabled: false, tokens: [token()], anonymous: [] });
    expect(resolved.throttle).toBe(false);
  });
});
