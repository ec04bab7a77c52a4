import { ExitCode } from './cli.exit-codes';
import { exitCodeOf, MigrationApiClient } from './migration-api.client';

describe('MigrationApiClient', () => {
  it('maps HTTP statuses to the documented exit codes', () => {
    expect([400, 413, 415].map(exitCodeOf)).toEqual([ExitCode.USAGE, ExitCode.USAGE, ExitCode.USAGE]);
    expect([401, 403].map(exitCodeOf)).toEqual([ExitCode.AUTH, ExitCode.AUTH]);
    expect([404, 409, 429].map(exitCodeOf)).toEqual([ExitCode.REFUSED, ExitCode.REFUSED, ExitCode.REFUSED]);
    expect([500, 502, 503].map(exitCodeOf)).toEqual([ExitCode.UNREACHABLE, ExitCode.UNREACHABLE, ExitCode.UNREACHABLE]);
  });

  it('keeps the path prefix of the base URL', () => {
    const client = new MigrationApiClient({ url: new URL('https://shop.example.com/backend/'), timeoutMs: 1000, userAgent: 'test' });
    expect(client.urlOf('/api/ai/migration/jobs').href).toBe('https://shop.example.com/backend/api/ai/migration/jobs');
  });

  it('asks for a token before sending anything', async () => {
    const client = new MigrationApiClient({ url: new URL('http://127.0.0.1:1'), timeoutMs: 1000, userAgent: 'test' });
    await expect(client.get('/api/ai/migration/jobs')).rejects.toMatchObject({ exitCode: ExitCode.AUTH, message: expect.stringMatching(/^No token: set AI_MIGRATION_TOKEN/) });
  });
});
