import { InvalidMigrationRequestError } from '../migration.errors';
import type { VerifyFindingKind } from './migration-verify-finding.entity';
import { VERIFY_FINDING_KINDS } from './migration-verify-findings';
import { VERIFY_FINDINGS_LIMITS, type VerifyFindingsQuery } from './migration-verify.interfaces';

/** `fix` of a verification: absent (false) or a boolean. */
export function validateFix(fix: unknown): boolean {
  if (fix === undefined || fix === null) return false;
  if (typeof fix !== 'boolean') {
    throw new InvalidMigrationRequestError(`"fix" is ${JSON.stringify(fix)}; use true (re-queue missing and stale entities, delete orphaned vectors) or false (report only).`);
  }
  return fix;
}

/** A findings query with its defaults: `kind` one of the kinds or absent, `limit` 1..1000 (default 100), `offset` from 0. */
export function validateFindingsQuery(query: VerifyFindingsQuery = {}): { kind?: VerifyFindingKind; limit: number; offset: number } {
  const { kind, limit = VERIFY_FINDINGS_LIMITS.defaultLimit, offset = 0 } = query ?? {};
  if (kind !== undefined && !VERIFY_FINDING_KINDS.includes(kind)) {
    throw new InvalidMigrationRequestError(`"kind" is ${JSON.stringify(kind)}; use one of ${VERIFY_FINDING_KINDS.join(', ')}, or leave it out for all.`);
  }
  if (!isIntegerIn(limit, 1, VERIFY_FINDINGS_LIMITS.maxLimit)) {
    throw new InvalidMigrationRequestError(`"limit" is ${JSON.stringify(limit)}; use an integer from 1 to ${VERIFY_FINDINGS_LIMITS.maxLimit}.`);
  }
  if (!isIntegerIn(offset, 0, VERIFY_FINDINGS_LIMITS.maxOffset)) {
    throw new InvalidMigrationRequestError(`"offset" is ${JSON.stringify(offset)}; use an integer from 0 to ${VERIFY_FINDINGS_LIMITS.maxOffset}.`);
  }
  return { kind, limit, offset };
}

function isIntegerIn(value: unknown, min: number, max: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max;
}
