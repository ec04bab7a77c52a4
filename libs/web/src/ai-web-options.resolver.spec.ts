import { AiWebModule } from './ai-web.module';
import { resolveAiWebOptions } from './ai-web-options.resolver';

describe('resolveAiWebOptions', () => {
  const token = (over: Record<string, unknown> = {}) => ({ name: 'ops', token: 'a-secret-of-enough-length', role: 'admin', ...over });

  it('applies the defaults', () => {
    expect(resolveAiWebOptions({})).toEqual({
      health: { maxQueueAgeSeconds: 900 },
      auth: undefined,
      throttle: { limit: 30, ttlMs: 60_000 },
      events: { intervalMs: 1000 },
    });
  });

  it.each([
    [{ health: { maxQueueAgeSeconds: 0 } }, /"health.maxQueueAgeSeconds" is 0; use an integer from 1/],
    [{ throttle: { limit: -1, ttlMs: 1000 } }, /"throttle.limit" is -1/],
    [{ throttle: { limit: 5, ttlMs: 1.5 } }, /"throttle.ttlMs" is 1.5/],
    [{ events: { intervalMs: 'fast' } }, /"events.intervalMs" is "fast"/],
    [{ auth: { tokens: [] } }, /"auth.tokens" is "\(invalid\)"; give a non-empty list/],
    [{ auth: {} }, /"auth.tokens" is undefined; give a non-empty list .* auth: \{ disabled: true \}/],
    [{ auth: { tokens: [token({ role: 'root' })] } }, /"auth.tokens\[0\].role" is "root"; use "admin" or "viewer"/],
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
    expect(resolved.auth).toEqual({ disabled: false, tokens: [token()] });
    expect(resolved.throttle).toBe(false);
  });
});
