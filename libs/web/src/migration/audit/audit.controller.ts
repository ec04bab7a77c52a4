import { MigrationAuditService } from '@ai-infrastructure/migration-core';
import { Controller, Get, Query, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBadRequestResponse, ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AiRoutes } from '../../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../../auth/bearer-auth.guard';
import { AiExceptionFilter } from '../../errors/ai-exception.filter';
import { ErrorResponseDto } from '../../errors/error-response.dto';
import { AuditLogPageDto, toAuditLogPageDto } from './audit-log-page.dto';
import { AuditLogQueryDto } from './audit-log.query.dto';

const ErrorBody = { type: ErrorResponseDto };

/**
 * `/api/ai/audit`: the audit log across jobs and index generations — who started, paused, resumed,
 * cancelled, rethrottled, retried, verified, built, validated, cut over, rolled back or retired what, and
 * when. Registered with the migration routes (same gate). Any bearer token may read it (viewer or admin):
 * it names token names and actions, never tokens.
 */
@ApiTags('audit')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', ...ErrorBody })
@ApiForbiddenResponse({ description: 'The token may not use this route.', ...ErrorBody })
@AiRoutes('audit')
@UseGuards(BearerAuthGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/audit')
export class AuditController {
  constructor(private readonly audit: MigrationAuditService) {}

  @Get('entries')
  @ApiOperation({
    summary: 'Query the audit log',
    description: 'Entries of every job and generation, newest first, filtered by actor, action, job, generation, entity type and time range; paginated.',
  })
  @ApiOkResponse({ type: AuditLogPageDto })
  @ApiBadRequestResponse({ description: 'Invalid query parameter (the field is named).', ...ErrorBody })
  async entries(@Query() query: AuditLogQueryDto): Promise<AuditLogPageDto> {
    return toAuditLogPageDto(
      await this.audit.query({
        actor: query.actor,
        action: query.action,
        jobId: query.jobId,
        generationId: query.generationId,
        entityType: query.entityType,
        from: query.from !== undefined ? new Date(query.from) : undefined,
        to: query.to !== undefined ? new Date(query.to) : undefined,
        limit: query.limit,
        offset: query.offset,
      }),
    );
  }
}
