/** The verification endpoints (`/api/ai/migration/verify`): controller, request and response DTOs. */
export { MigrationVerifyController } from './migration-verify.controller';
export { StartVerificationDto } from './start-verification.dto';
export { VerifyFindingDto, VerifyFindingsPageDto } from './verify-findings-page.dto';
export { VerifyFindingsQueryDto } from './verify-findings.query.dto';
export { VerifyReportDto } from './verify-report.dto';
