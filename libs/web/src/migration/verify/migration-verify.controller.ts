import { DataMigrationService, VERIFY_FINDINGS_LIMITS } from '@ai-infrastructure/migration-core';
import { BadRequestException, Body, Controller, Get, Param, ParseUUIDPipe, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiParam,
  ApiPayloadTooLargeResponse,
  ApiTags,
  ApiTooManyRequestsResponse,
  ApiUnauthorizedResponse,
  ApiUnsupportedMediaTypeResponse,
} from '@nestjs/swagger';
import { CurrentAiPrincipal, type AiPrincipal } from '../../auth/ai-principal';
import { AiRoutes } from '../../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { AiExceptionFilter } from '../../errors/ai-exception.filter';
import { ErrorResponseDto } from '../../errors/error-response.dto';
import { AiThrottlerGuard } from '../../throttle/ai-throttler.guard';
import { RequireJsonBodyGuard } from '../../validation/require-json-body.guard';
import { MigrationJobDto, toJobDto } from '../dto/migration-job.dto';
import { StartVerificationDto } from './start-verification.dto';
import { VerifyFindingsPageDto } from './verify-findings-page.dto';
import { VerifyFindingsQueryDto } from './verify-findings.query.dto';
import { VerifyReportDto } from './verify-report.dto';

const ErrorBody = { type: ErrorResponseDto };

const JOB_ID = new ParseUUIDPipe({
  exceptionFactory: () =>
    new BadRequestException({
      message:
        'Path parameter "jobId" must be the id of a verification job (a UUID such as 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10), as POST /api/ai/migration/verify returned it.',
      details: [{ field: 'jobId', rule: 'isUuid', message: 'jobId must be a UUID' }],
    }),
});
const JOB_PARAM = ApiParam({ name: 'id', format: 'uuid', description: 'Id of a verification job.' });
const NOT_A_VERIFICATION = ApiBadRequestResponse({ description: 'The id is not a UUID, or names a backfill job, not a verification.', ...ErrorBody });
const NO_JOB = ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody });

/**
 * `/api/ai/migration/verify`: verification jobs — compare an index generation with its entity table (rows
 * without a vector, vectors of other content, vectors without a row, vectors in generations that are not
 * maintained) and optionally repair it. Same conventions as the job routes: a bearer token for everything,
 * `admin` to start (rate limited per token), JSON bodies, the actor of the audit entry is the token's name.
 * A verification is a job like any other: follow, pause, resume and cancel it under `/jobs/{id}`.
 *
 * Its paths have a fixed first segment (`verify`) that no other migration route uses.
 */
@ApiTags('migration')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', ...ErrorBody })
@ApiForbiddenResponse({ description: 'The token\'s role may not do this (viewer tokens may only read).', ...ErrorBody })
@AiRoutes('migration')
@UseGuards(BearerAuthGuard, RequireJsonBodyGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/migration/verify')
export class MigrationVerifyController {
  constructor(private readonly migrations: DataMigrationService) {}

  @Post()
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Start a verification job',
    description:
      'Reads the entity table and the generation\'s vectors by keyset pages and counts missing, stale, orphaned and foreign vectors, ' +
      'listing up to 10,000 of each. With fix, missing and stale entities are re-queued (LOW priority, at the rate limit) and orphaned ' +
      'vectors deleted; the job completes when the re-queued entities are done.',
  })
  @ApiCreatedResponse({ type: MigrationJobDto, description: 'The new verification job, RUNNING.' })
  @ApiBadRequestResponse({ description: 'Invalid body, an unknown entity type (the known ones are listed), or a generation that cannot be verified.', ...ErrorBody })
  @ApiConflictResponse({ description: 'A job for this entity type is active, or maxConcurrentJobs jobs are; the body gives their ids.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token; see Retry-After.', ...ErrorBody })
  @ApiUnsupportedMediaTypeResponse({ description: 'A body was sent without Content-Type: application/json.', ...ErrorBody })
  @ApiPayloadTooLargeResponse({ description: 'The body is larger than 100 kB.', ...ErrorBody })
  async start(@Body() body: StartVerificationDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<MigrationJobDto> {
    return toJobDto(
      await this.migrations.startVerification({
        entityType: body.entityType,
        generationId: body.generationId,
        fix: body.fix,
        batchSize: body.batchSize,
        rateLimit: body.rateLimit,
        createdBy: principal.name,
      }),
    );
  }

  @Get(':id')
  @ApiOperation({ summary: 'Report of a verification job', description: 'Source rows, vectors, and the exact counts of missing, stale, orphaned and foreign vectors.' })
  @JOB_PARAM
  @ApiOkResponse({ type: VerifyReportDto, description: 'What the job found so far; done once both passes are over.' })
  @NOT_A_VERIFICATION
  @NO_JOB
  report(@Param('id', JOB_ID) jobId: string): Promise<VerifyReportDto> {
    return this.migrations.getVerifyReport(jobId);
  }

  @Get(':id/findings')
  @ApiOperation({
    summary: 'Findings of a verification job',
    description: 'The entities found inconsistent, by kind then entity id, optionally of one kind, paginated (at most 10,000 per kind are listed).',
  })
  @JOB_PARAM
  @ApiOkResponse({ type: VerifyFindingsPageDto, description: 'A page of findings and how many there are.' })
  @NOT_A_VERIFICATION
  @NO_JOB
  async findings(@Param('id', JOB_ID) jobId: string, @Query() query: VerifyFindingsQueryDto): Promise<VerifyFindingsPageDto> {
    const limit = query.limit ?? VERIFY_FINDINGS_LIMITS.defaultLimit;
    const offset = query.offset ?? 0;
    const page = await this.migrations.getVerifyFindings(jobId, { kind: query.kind, limit, offset });
    return { total: page.total, limit, offset, items: page.items };
  }
}
