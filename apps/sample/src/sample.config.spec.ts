import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Logger } from '@nestjs/common';
import { parseApiTokens, sampleAdminTokenFile, sampleWebOptions } from './sample.config';

describe('sampleWebOptions', () => {
  let dir: string;
  let warnings: string[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'sample-auth-'));
    warnings = [];
    jest.spyOn(Logger.prototype, 'warn').mockImplementation((message: unknown) => void warnings.push(String(message)));
  });

  afterEach(() => {
    jest.restoreAllMocks();
    rmSync(dir, { recursive: true, force: true });
  });

  it('without AI_API_TOKENS creates a random admin token once, readable by the owner only, and logs its path but never the token', () => {
    const env = { AI_DATA_DIR: dir };
    const first = sampleWebOptions(env);
    const file = sampleAdminTokenFile(env);
    const token = readFileSync(file, 'utf8').trim();
    expect(token).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(first.auth).toEqual({ tokens: [{ name: 'sample-admin', token, role: 'admin' }], anonymous: ['health'] });
    expect(sampleWebOptions(env).auth).toEqual(first.auth);
    expect(warnings).toHaveLength(2);
    expect(warnings[0]).toContain(file);
    expect(warnings.join('\n')).not.toContain(token);
  });

  it('uses AI_API_TOKENS and AI_API_ANONYMOUS, or disables auth only when AI_AUTH_DISABLED=true', () => {
    expect(sampleWebOptions({ AI_DATA_DIR: dir, AI_API_TOKENS: 'ci:admin:a-secret-with-a:colon,dash:viewer:another-secret-value' }).auth).toEqual({
      tokens: [
        { name: 'ci', role: 'admin', token: 'a-secret-with-a:colon' },
        { name: 'dash', role: 'viewer', token: 'another-secret-value' },
      ],
      anonymous: ['health'],
    });
    // AI_API_ANONYMOUS opens route groups (AiWebModule validates the names); "none" opens none.
    expect(sampleWebOptions({ AI_DATA_DIR: dir, AI_API_TOKENS: 'ci:admin:a-secret-with-a:colon', AI_API_ANONYMOUS: 'health, search' }).auth).toMatchObject({ anonymous: ['health', 'search'] });
    expect(sampleWebOptions({ AI_DATA_DIR: dir, AI_API_TOKENS: 'ci:admin:a-secret-with-a:colon', AI_API_ANONYMOUS: 'none' }).auth).toMatchObject({ anonymous: [] });
    expect(sampleWebOptions({ AI_DATA_DIR: dir, AI_AUTH_DISABLED: 'true' }).auth).toEqual({ disabled: true });
    expect(() => parseApiTokens('ci-admin-token')).toThrow(/AI_API_TOKENS: entry 1 is not "name:role:token"/);
    expect(warnings).toEqual([]);
  });
});
