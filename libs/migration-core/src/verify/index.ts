export { MigrationVerifyFinding, type VerifyFindingKind } from './migration-verify-finding.entity';
export { MAX_FINDINGS_PER_KIND, VERIFY_FINDING_KINDS } from './migration-verify-findings';
export { VERIFY_FINDINGS_LIMITS, type VerificationRequest, type VerifyFindingsPage, type VerifyFindingsQuery, type VerifyReport } from './migration-verify.interfaces';
