import { DataMigrationService, InvalidMigrationRequestError } from '@ai-infrastructure/migration-core';
import {
  applyDecorators,
  BadRequestException,
  Body,
  Controller,
  Delete,
  Get,
  Headers,
  HttpCode,
  HttpStatus,
  Inject,
  Ip,
  Param,
  ParseUUIDPipe,
  Patch,
  Post,
  Query,
  Sse,
  UseFilters,
  UseGuards,
  type MessageEvent,
} from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
  ApiConflictResponse,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiHeader,
  ApiNoContentResponse,
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
import { finalize, takeUntil, type Observable } from 'rxjs';
import { AI_WEB_OPTIONS } from '../ai-web.constants';
import type { ResolvedAiWebOptions } from '../ai-web-options.resolver';
import { CurrentAiPrincipal, type AiPrincipal } from '../auth/ai-principal';
import { AiRoutes } from '../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { AiThrottlerGuard } from '../throttle/ai-throttler.guard';
import { RequireJsonBodyGuard } from '../validation/require-json-body.guard';
import { ListMigrationJobsQueryDto } from './dto/list-migration-jobs.query.dto';
import { MigrationAuditEntryDto, toAuditEntryDto } from './dto/migration-audit-entry.dto';
import { MigrationEstimateDto } from './dto/migration-estimate.dto';
import { MigrationFailureDto } from './dto/migration-failure.dto';
import { MigrationJobDto, MigrationJobListDto, toJobDto } from './dto/migration-job.dto';
import { MigrationProgressDto } from './dto/migration-progress.dto';
import { PauseMigrationDto } from './dto/pause-migration.dto';
import { RetryFailedDto, RetryFailedResultDto } from './dto/retry-failed.dto';
import { StartMigrationDto } from './dto/start-migration.dto';
import { UpdateMigrationDto } from './dto/update-migration.dto';
import { MigrationEventStreams } from './migration-event-streams';
import { migrationProgressEvents } from './migration-events';

const JOB_ID = new ParseUUIDPipe({
  exceptionFactory: () =>
    new BadRequestException({
      message: 'Path parameter "id" must be a job id (a UUID such as 3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10); list jobs with GET /api/ai/migration/jobs.',
      details: [{ field: 'id', rule: 'isUuid', message: 'id must be a UUID' }],
    }),
});

const ErrorBody = { type: ErrorResponseDto };

/** The answers of a route that reads a JSON body, besides its own. */
function ApiJsonBodyResponses(limit: string): MethodDecorator {
  return applyDecorators(
    ApiUnsupportedMediaTypeResponse({ description: 'A body was sent without Content-Type: application/json.', ...ErrorBody }),
    ApiPayloadTooLargeResponse({ description: `The body is larger than ${limit}.`, ...ErrorBody }),
  );
}
const ID_LIST_BODY = ApiJsonBodyResponses('7.4 MiB (room for 10,000 ids of 255 characters)');
const SMALL_BODY = ApiJsonBodyResponses('100 kB');

/**
 * `/api/ai/migration`: start, watch and control backfill jobs remotely. Registered only when
 * MigrationModule is in the application. Every route needs a bearer token: viewers and admins may read, only
 * `admin` may change; changing routes are rate limited per token. A body must be JSON (415 otherwise).
 */
@ApiTags('migration')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', ...ErrorBody })
@ApiForbiddenResponse({ description: 'The token\'s role may not do this (viewer tokens may only read).', ...ErrorBody })
@AiRoutes('migration')
@UseGuards(BearerAuthGuard, RequireJsonBodyGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/migration')
export class MigrationController {
  constructor(
    private readonly migrations: DataMigrationService,
    @Inject(AI_WEB_OPTIONS) private readonly options: ResolvedAiWebOptions,
    private readonly streams: MigrationEventStreams,
  ) {}

  @Post('start')
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({ summary: 'Start a migration job', description: 'Creates a RUNNING job that backfills (or re-embeds) the entities of a type in the background.' })
  @ApiCreatedResponse({ type: MigrationJobDto, description: 'The new job, RUNNING.' })
  @ApiBadRequestResponse({ description: 'Invalid body, or an unknown entity type (the known ones are listed).', ...ErrorBody })
  @ApiConflictResponse({ description: 'A job for this entity type is active, or maxConcurrentJobs jobs are; the body gives their ids.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token; see Retry-After.', ...ErrorBody })
  @ID_LIST_BODY
  async start(@Body() body: StartMigrationDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<MigrationJobDto> {
    return toJobDto(await this.migrations.startMigration({ ...body, createdBy: principal.name }));
  }

  @Post('estimate')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Estimate a migration (dry run)',
    description: 'How many rows match, how many would be skipped, tokens, cost and duration. Calls no provider and writes nothing.',
  })
  @ApiOkResponse({ type: MigrationEstimateDto, description: 'What a job with this request would do.' })
  @ApiBadRequestResponse({ description: 'Invalid body or unknown entity type.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token; see Retry-After.', ...ErrorBody })
  @ID_LIST_BODY
  estimate(@Body() body: StartMigrationDto): Promise<MigrationEstimateDto> {
    return this.migrations.estimateMigration(body);
  }

  @Get('jobs')
  @ApiOperation({ summary: 'List jobs', description: 'Newest first, filtered by status and entity type, paginated.' })
  @ApiOkResponse({ type: MigrationJobListDto, description: 'A page of jobs and the total.' })
  @ApiBadRequestResponse({ description: 'Invalid query parameter.', ...ErrorBody })
  async list(@Query() query: ListMigrationJobsQueryDto): Promise<MigrationJobListDto> {
    const limit = query.limit ?? 50;
    const offset = query.offset ?? 0;
    const [jobs, total] = await Promise.all([
      this.migrations.getAllJobs({ status: query.status, entityType: query.entityType, limit, offset }),
      this.migrations.countJobs({ status: query.status, entityType: query.entityType }),
    ]);
    return { items: jobs.map(toJobDto), total, limit, offset };
  }

  @Get('jobs/:id')
  @ApiOperation({ summary: 'Progress of a job', description: 'The spec\'s progress shape plus skipped, throughput and timestamps.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: MigrationProgressDto, description: 'The job\'s progress.' })
  @ApiBadRequestResponse({ description: 'The id is not a UUID.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  progress(@Param('id', JOB_ID) id: string): Promise<MigrationProgressDto> {
    return this.migrations.getProgress(id);
  }

  @Patch('jobs/:id')
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Change the rate limit or budget of a job',
    description:
      'rateLimit takes effect for the next provider request (like Elasticsearch _rethrottle); maxTokens/maxCost change the budget (null removes a limit). A job paused with BUDGET_EXCEEDED stays paused until resumed.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: MigrationJobDto, description: 'The job after the change.' })
  @ApiBadRequestResponse({ description: 'Invalid body or id.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  @ApiConflictResponse({ description: 'The job is not RUNNING or PAUSED; the body gives its status.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token.', ...ErrorBody })
  @SMALL_BODY
  async update(@Param('id', JOB_ID) id: string, @Body() body: UpdateMigrationDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<MigrationJobDto> {
    const budget = body.maxTokens !== undefined || body.maxCost !== undefined;
    if (body.rateLimit === undefined && !budget) {
      throw new InvalidMigrationRequestError('Give "rateLimit", "maxTokens" and/or "maxCost" to change the job (null removes a budget limit).', 'rateLimit');
    }
    let job = budget ? await this.migrations.updateBudget(id, { maxTokens: body.maxTokens, maxCost: body.maxCost }, { actor: principal.name }) : undefined;
    if (body.rateLimit !== undefined) job = await this.migrations.updateRateLimit(id, body.rateLimit, { actor: principal.name });
    return toJobDto(job!);
  }

  @Post('jobs/:id/pause')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({ summary: 'Pause a running job', description: 'No new provider calls for the job; items already in flight finish.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: PauseMigrationDto, required: false })
  @ApiOkResponse({ type: MigrationJobDto, description: 'The job after the change.' })
  @ApiBadRequestResponse({ description: 'Invalid id or body.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  @ApiConflictResponse({ description: 'The job is not RUNNING; the body gives its status and what it allows.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token.', ...ErrorBody })
  @SMALL_BODY
  async pause(@Param('id', JOB_ID) id: string, @Body() body: PauseMigrationDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<MigrationJobDto> {
    return toJobDto(await this.migrations.pauseMigration(id, { actor: principal.name, reason: body?.reason }));
  }

  @Post('jobs/:id/resume')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({ summary: 'Resume a paused job', description: 'Continues from the checkpoint.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: MigrationJobDto, description: 'The job after the change.' })
  @ApiBadRequestResponse({ description: 'Invalid id.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  @ApiConflictResponse({ description: 'The job is not PAUSED; the body gives its status and what it allows.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token.', ...ErrorBody })
  async resume(@Param('id', JOB_ID) id: string, @CurrentAiPrincipal() principal: AiPrincipal): Promise<MigrationJobDto> {
    return toJobDto(await this.migrations.resumeMigration(id, { actor: principal.name }));
  }

  @Delete('jobs/:id')
  @HttpCode(HttpStatus.NO_CONTENT)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({ summary: 'Cancel a job', description: 'Stops the producer and removes pending items; vectors already written stay.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiNoContentResponse({ description: 'Cancelled.' })
  @ApiBadRequestResponse({ description: 'Invalid id.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  @ApiConflictResponse({ description: 'The job already ended; the body gives its status.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token.', ...ErrorBody })
  async cancel(@Param('id', JOB_ID) id: string, @CurrentAiPrincipal() principal: AiPrincipal): Promise<void> {
    await this.migrations.cancelMigration(id, { actor: principal.name });
  }

  @Get('jobs/:id/failures')
  @ApiOperation({ summary: 'Failed entities of a job', description: 'Entity id, last error, attempts and last attempt time.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: [MigrationFailureDto], description: 'The failed entities (empty when none).' })
  @ApiBadRequestResponse({ description: 'Invalid id.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  failures(@Param('id', JOB_ID) id: string): Promise<MigrationFailureDto[]> {
    return this.migrations.getFailures(id);
  }

  @Post('jobs/:id/retry-failed')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({ summary: 'Retry failed entities', description: 'All of the job\'s failures, or the listed ones; a COMPLETED job runs again until they are done.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiBody({ type: RetryFailedDto, required: false })
  @ApiOkResponse({ type: RetryFailedResultDto, description: 'How many failures were re-queued, and the job.' })
  @ApiBadRequestResponse({ description: 'Invalid id or body.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  @ApiConflictResponse({ description: 'The job was cancelled or failed, or another job of its entity type is active.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token.', ...ErrorBody })
  @ID_LIST_BODY
  async retryFailed(@Param('id', JOB_ID) id: string, @Body() body: RetryFailedDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<RetryFailedResultDto> {
    const retried = await this.migrations.retryFailed(id, body?.entityIds, { actor: principal.name });
    return { retried, job: toJobDto(await this.migrations.getJob(id)) };
  }

  @Get('jobs/:id/audit')
  @ApiOperation({ summary: 'Audit log of a job', description: 'Who started, paused, resumed, cancelled, rethrottled or retried the job, when, from which state.' })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiOkResponse({ type: [MigrationAuditEntryDto], description: 'Audit entries, oldest first.' })
  @ApiBadRequestResponse({ description: 'Invalid id.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  async audit(@Param('id', JOB_ID) id: string): Promise<MigrationAuditEntryDto[]> {
    return (await this.migrations.getAuditLog(id)).map(toAuditEntryDto);
  }

  @Sse('jobs/:id/events')
  @ApiOperation({
    summary: 'Live progress (Server-Sent Events)',
    description:
      'Progress snapshots as `progress` events (data: the same JSON as GET /jobs/{id}), one per change, until the job is COMPLETED, ' +
      'FAILED or CANCELLED; then the stream ends. Reconnecting with Last-Event-ID resumes after the last snapshot received.',
  })
  @ApiParam({ name: 'id', format: 'uuid' })
  @ApiHeader({ name: 'Last-Event-ID', required: false, description: 'Id of the last event received (sent by EventSource on reconnect).' })
  @ApiOkResponse({
    description: 'An event stream of progress snapshots (text/event-stream).',
    content: {
      'text/event-stream': {
        schema: { type: 'string' },
        example: 'id: RUNNING.100000.25000.0.0\nevent: progress\ndata: {"jobId":"…","status":"RUNNING","progress":{"total":100000,"processed":25000,…}}\n\n',
      },
    },
  })
  @ApiBadRequestResponse({ description: 'Invalid id.', ...ErrorBody })
  @ApiNotFoundResponse({ description: 'No job has this id.', ...ErrorBody })
  @ApiTooManyRequestsResponse({ description: 'This caller already holds the most open streams (10).', ...ErrorBody })
  async events(
    @Param('id', JOB_ID) id: string,
    @CurrentAiPrincipal() principal: AiPrincipal,
    @Ip() ip: string,
    @Headers('last-event-id') lastEventId?: string,
  ): Promise<Observable<MessageEvent>> {
    // Fails with 404 (or 429) before the stream starts.
    await this.migrations.getJob(id);
    const release = this.streams.acquire(principal.name === 'anonymous' ? `ip:${ip}` : principal.name);
    return migrationProgressEvents(this.migrations, id, this.options.events.intervalMs, lastEventId?.slice(0, 200)).pipe(
      takeUntil(this.streams.closing$),
      finalize(release),
    );
  }
}
