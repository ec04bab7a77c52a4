export { MigrationVerifyFinding, type VerifyFindingKind } from './migration-verify-finding.entity';
