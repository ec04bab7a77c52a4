import { AiEntityRegistry } from '@ai-infrastructure/core/internal';
import { MigrationGenerationService, UnknownEntityTypeError } from '@ai-infrastructure/migration-core';
import { applyDecorators, Body, Controller, Get, HttpCode, HttpStatus, Post, Query, UseFilters, UseGuards } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiBody,
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
import { MigrationAuditEntryDto, toAuditEntryDto } from '../dto/migration-audit-entry.dto';
import { toJobDto } from '../dto/migration-job.dto';
import { BuildGenerationDto, BuildGenerationResultDto } from './build-generation.dto';
import { GenerationQualityReportDto } from './generation-quality-report.dto';
import { IndexGenerationDto, toGenerationDto } from './index-generation.dto';
import { ListGenerationsQueryDto } from './list-generations.query.dto';
import { GenerationIdParam } from './generation-id.param';
import { CutoverGenerationDto, GenerationSwitchDto, RollbackGenerationDto, toSwitchDto } from './switch-generation.dto';
import { ValidateGenerationDto } from './validate-generation.dto';

const ErrorBody = { type: ErrorResponseDto };

/** The answers of a route that reads a JSON body (at most 100 kB), besides its own. */
const JSON_BODY = applyDecorators(
  ApiUnsupportedMediaTypeResponse({ description: 'A body was sent without Content-Type: application/json.', ...ErrorBody }),
  ApiPayloadTooLargeResponse({ description: 'The body is larger than 100 kB.', ...ErrorBody }),
);
const ID_PARAM = ApiParam({ name: 'id', type: Number, description: 'Index generation id (a positive integer).', example: 2 });
const BAD_ID = ApiBadRequestResponse({ description: 'The id is not a positive integer.', ...ErrorBody });
const NO_GENERATION = ApiNotFoundResponse({ description: 'No generation has this id.', ...ErrorBody });
const THROTTLED = ApiTooManyRequestsResponse({ description: 'Too many changing requests from this token; see Retry-After.', ...ErrorBody });

/**
 * `/api/ai/migration/generations`: index generations for operators — build the configured definition of an
 * entity type beside the serving index, validate it (the quality gate), cut over atomically, roll back, and
 * retire. Same conventions as the job routes: a bearer token for everything, `admin` to change (changing
 * routes are rate limited per token), JSON bodies, the actor of every audit entry is the token's name.
 * Registered with MigrationController, only when MigrationModule is in the application.
 *
 * Its paths have a fixed first segment (`generations`) that no job route uses, and the literal
 * `generations/rollback` is declared before the `generations/:id` routes, so neither captures the other.
 */
@ApiTags('migration')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', ...ErrorBody })
@ApiForbiddenResponse({ description: 'The token\'s role may not do this (viewer tokens may only read).', ...ErrorBody })
@AiRoutes('migration')
@UseGuards(BearerAuthGuard, RequireJsonBodyGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/migration/generations')
export class MigrationGenerationsController {
  constructor(
    private readonly generations: MigrationGenerationService,
    private readonly entities: AiEntityRegistry,
  ) {}

  @Get()
  @ApiOperation({ summary: 'List index generations', description: 'Newest first, of one entity type when given: state, space, text definition, quality report, timestamps.' })
  @ApiOkResponse({ type: [IndexGenerationDto], description: 'The generations (empty for an entity type without any).' })
  @ApiBadRequestResponse({ description: 'Invalid query parameter.', ...ErrorBody })
  async list(@Query() query: ListGenerationsQueryDto): Promise<IndexGenerationDto[]> {
    return (await this.generations.list(query.entityType)).map(toGenerationDto);
  }

  @Post()
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Build a generation for the configured definition',
    description:
      'Records the entity type\'s configured model, dimensions and embeddable fields as a BUILDING generation (or returns the one ' +
      'already being built for them) and starts its backfill job. Search keeps using the serving generation meanwhile.',
  })
  @ApiCreatedResponse({ type: BuildGenerationResultDto, description: 'The BUILDING generation and its RUNNING backfill job.' })
  @ApiBadRequestResponse({ description: 'Invalid body, or an unknown entity type (the known ones are listed).', ...ErrorBody })
  @ApiConflictResponse({
    description: 'The serving generation already has the configured definition, or a job for the entity type is active (the body gives its id).',
    ...ErrorBody,
  })
  @THROTTLED
  @JSON_BODY
  async build(@Body() body: BuildGenerationDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<BuildGenerationResultDto> {
    this.requireEntityType(body.entityType);
    const { generation, job } = await this.generations.build(body.entityType, {
      actor: principal.name,
      startBackfill: body.startBackfill,
      batchSize: body.batchSize,
      rateLimit: body.rateLimit,
    });
    return { generation: toGenerationDto(generation), job: job ? toJobDto(job) : null };
  }

  // Declared before the `:id` routes (see the class comment).
  @Post('rollback')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Roll back to the previous generation',
    description: 'The generation that served before the last cutover serves again from the next query on; it was kept current meanwhile.',
  })
  @ApiOkResponse({ type: GenerationSwitchDto, description: 'The generation serving now and the one it replaced.' })
  @ApiBadRequestResponse({ description: 'Invalid body, or an unknown entity type (the known ones are listed).', ...ErrorBody })
  @ApiConflictResponse({ description: 'There is no previous generation to roll back to (none, or it was retired).', ...ErrorBody })
  @THROTTLED
  @JSON_BODY
  async rollback(@Body() body: RollbackGenerationDto, @CurrentAiPrincipal() principal: AiPrincipal): Promise<GenerationSwitchDto> {
    this.requireEntityType(body.entityType);
    return toSwitchDto(await this.generations.rollback(body.entityType, { actor: principal.name }));
  }

  @Get(':id')
  @ApiOperation({ summary: 'One index generation', description: 'State, embedding space, text definition, last quality report and timestamps.' })
  @ID_PARAM
  @ApiOkResponse({ type: IndexGenerationDto, description: 'The generation.' })
  @BAD_ID
  @NO_GENERATION
  async get(@GenerationIdParam() id: number): Promise<IndexGenerationDto> {
    return toGenerationDto(await this.generations.get(id));
  }

  @Post(':id/validate')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Run the quality gate',
    description:
      'Coverage (every row has a current vector in the generation, no orphans) and, per golden query, recall@k against its expected ids ' +
      'and overlap@k with the serving generation. The report is stored with the generation; a cutover needs it to have passed. Answers 200 ' +
      'whether or not the gate passed (see `passed` and `failures`).',
  })
  @ID_PARAM
  @ApiBody({ type: ValidateGenerationDto, required: false })
  @ApiOkResponse({ type: GenerationQualityReportDto, description: 'The quality report.' })
  @ApiBadRequestResponse({ description: 'Invalid id or body, or an invalid golden-query file configured in generations.goldenQueriesPath.', ...ErrorBody })
  @NO_GENERATION
  @ApiConflictResponse({ description: 'The generation is RETIRED, DISCARDED or FAILED.', ...ErrorBody })
  @THROTTLED
  @JSON_BODY
  validate(
    @GenerationIdParam() id: number,
    @Body() body: ValidateGenerationDto,
    @CurrentAiPrincipal() principal: AiPrincipal,
  ): Promise<GenerationQualityReportDto> {
    return this.generations.validate(id, body ?? {}, { actor: principal.name });
  }

  @Post(':id/cutover')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Cut over to a generation',
    description:
      'Atomically makes a READY generation serve its entity type, from the next query on, on every instance; the generation serving ' +
      'until now becomes READY and is kept current for a rollback. Refused unless its quality gate passed, or with force (audited).',
  })
  @ID_PARAM
  @ApiBody({ type: CutoverGenerationDto, required: false })
  @ApiOkResponse({ type: GenerationSwitchDto, description: 'The generation serving now and the one it replaced.' })
  @ApiBadRequestResponse({ description: 'Invalid id or body.', ...ErrorBody })
  @NO_GENERATION
  @ApiConflictResponse({
    description:
      'The generation is not READY (the message says what to do), already serves, its provider is not configured in this instance, or ' +
      'its quality gate did not pass or never ran — then the body\'s `report` holds the stored quality report (null when it never ran).',
    ...ErrorBody,
  })
  @THROTTLED
  @JSON_BODY
  async cutover(
    @GenerationIdParam() id: number,
    @Body() body: CutoverGenerationDto,
    @CurrentAiPrincipal() principal: AiPrincipal,
  ): Promise<GenerationSwitchDto> {
    const generation = await this.generations.get(id);
    return toSwitchDto(await this.generations.cutover(generation.entityType, id, { actor: principal.name, force: body?.force }));
  }

  @Post(':id/retire')
  @HttpCode(HttpStatus.OK)
  @UseGuards(AiThrottlerGuard)
  @ApiOperation({
    summary: 'Retire a generation',
    description:
      'Ends a generation that does not serve: RETIRED if it served before, DISCARDED if it never did. Live writes stop reaching it at ' +
      'once; its vectors and index are deleted right after, in the background. It can no longer be rolled back to.',
  })
  @ID_PARAM
  @ApiOkResponse({ type: IndexGenerationDto, description: 'The generation, RETIRED or DISCARDED.' })
  @BAD_ID
  @NO_GENERATION
  @ApiConflictResponse({ description: 'The generation serves (cut over or roll back first), or it already ended.', ...ErrorBody })
  @THROTTLED
  async retire(@GenerationIdParam() id: number, @CurrentAiPrincipal() principal: AiPrincipal): Promise<IndexGenerationDto> {
    return toGenerationDto(await this.generations.retire(id, { actor: principal.name }));
  }

  @Get(':id/audit')
  @ApiOperation({
    summary: 'Audit log of a generation',
    description: 'Who created, validated, cut over to, rolled back to or retired the generation, when, from which state. Oldest first.',
  })
  @ID_PARAM
  @ApiOkResponse({ type: [MigrationAuditEntryDto], description: 'Audit entries, oldest first.' })
  @BAD_ID
  @NO_GENERATION
  async audit(@GenerationIdParam() id: number): Promise<MigrationAuditEntryDto[]> {
    return (await this.generations.getAuditLog(id)).map(toAuditEntryDto);
  }

  /** An unknown entity type in a body is a 400 listing the known ones, as on POST /start. */
  private requireEntityType(entityType: string): void {
    if (!this.entities.find(entityType)) throw new UnknownEntityTypeError(entityType, this.entities.entityTypes());
  }
}
