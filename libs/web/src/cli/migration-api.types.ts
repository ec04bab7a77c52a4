import type { ErrorResponseDto } from '../errors/error-response.dto';
import type { IndexGenerationDto } from '../migration/generations/index-generation.dto';
import type { GenerationQualityReportDto } from '../migration/generations/generation-quality-report.dto';
import type { BuildGenerationResultDto } from '../migration/generations/build-generation.dto';
import type { GenerationSwitchDto } from '../migration/generations/switch-generation.dto';
import type { AuditLogPageDto } from '../migration/audit/audit-log-page.dto';
import type { MigrationAuditEntryDto } from '../migration/dto/migration-audit-entry.dto';
import type { MigrationEstimateDto } from '../migration/dto/migration-estimate.dto';
import type { MigrationFailureDto } from '../migration/dto/migration-failure.dto';
import type { MigrationJobDto, MigrationJobListDto } from '../migration/dto/migration-job.dto';
import type { MigrationProgressDto } from '../migration/dto/migration-progress.dto';
import type { RetryFailedResultDto } from '../migration/dto/retry-failed.dto';
import type { VerifyFindingsPageDto } from '../migration/verify/verify-findings-page.dto';
import type { VerifyReportDto } from '../migration/verify/verify-report.dto';

// Type-only imports: the CLI is a client of the REST API and loads none of the server's code (no Nest,
// no migration-core at run time), but its view of the JSON is checked against the server's DTOs.

/** A DTO as it arrives over the wire: dates are ISO strings. */
export type Json<T> = T extends Date
  ? string
  : T extends Array<infer U>
    ? Array<Json<U>>
    : T extends object
      ? { [K in keyof T]: Json<T[K]> }
      : T;

export type ApiError = Json<ErrorResponseDto>;
export type ApiJob = Json<MigrationJobDto>;
export type ApiJobList = Json<MigrationJobListDto>;
export type ApiProgress = Json<MigrationProgressDto>;
export type ApiEstimate = Json<MigrationEstimateDto>;
export type ApiFailure = Json<MigrationFailureDto>;
export type ApiAuditEntry = Json<MigrationAuditEntryDto>;
export type ApiAuditPage = Json<AuditLogPageDto>;
export type ApiRetryResult = Json<RetryFailedResultDto>;
export type ApiGeneration = Json<IndexGenerationDto>;
export type ApiBuildResult = Json<BuildGenerationResultDto>;
export type ApiSwitch = Json<GenerationSwitchDto>;
export type ApiQualityReport = Json<GenerationQualityReportDto>;
export type ApiVerifyReport = Json<VerifyReportDto>;
export type ApiFindingsPage = Json<VerifyFindingsPageDto>;

/** Job statuses after which nothing changes. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['COMPLETED', 'FAILED', 'CANCELLED']);
