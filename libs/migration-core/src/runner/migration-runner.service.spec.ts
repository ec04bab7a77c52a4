import { MIGRATION_REQUEST_LIMITS } from '../job/migration-request.limits';
import { validatePauseReason } from '../job/migration-request.validator';
import { pauseReason } from './migration-runner.service';

describe('pauseReason (the reason of a pause for a provider problem)', () => {
  it('keeps a short message as it is', () => {
    expect(pauseReason("Paused because the embedding provider's quota is exhausted: 429 insufficient_quota")).toBe(
      "Paused because the embedding provider's quota is exhausted: 429 insufficient_quota",
    );
  });

  it('cuts a long provider message to the limit of a pause reason, so the pause itself cannot be refused', () => {
    const reason = pauseReason(`Paused because the embedding provider has been unavailable: ${'<html>'.repeat(500)}`);
    expect(reason).toHaveLength(MIGRATION_REQUEST_LIMITS.pauseReason.maxLength);
    expect(reason.endsWith('…')).toBe(true);
    expect(validatePauseReason(reason)).toBe(reason);
  });

  it('removes what PostgreSQL cannot store, also a surrogate pair cut in half at the limit', () => {
    expect(pauseReason('bad\u0000byte and \uD800 alone')).toBe('badbyte and \uFFFD alone');
    const cut = pauseReason(`${'x'.repeat(MIGRATION_REQUEST_LIMITS.pauseReason.maxLength - 2)}\u{1F600}tail`);
    expect(() => validatePauseReason(cut)).not.toThrow();
  });
});
