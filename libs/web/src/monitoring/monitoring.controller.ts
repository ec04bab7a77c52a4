import { EmbeddingService, IndexingQueueService } from '@ai-infrastructure/core';
import { IndexingWorkerService } from '@ai-infrastructure/core/internal';
import { Controller, Get, Header, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiForbiddenResponse, ApiOkResponse, ApiOperation, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AiRoutes } from '../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { priorityLabel } from '../metrics/indexing.metrics';
import { ProviderActivity } from './provider-activity';
import { ProviderStateDto } from './provider-state.dto';
import { QueueStatisticsDto } from './queue-statistics.dto';

/**
 * `GET /api/ai/monitoring/queue` and `/provider`: what the indexing queue and the embedding provider are
 * doing, as JSON for people and scripts (Prometheus gets the same through `/metrics`). Any bearer token.
 */
@ApiTags('monitoring')
@ApiBearerAuth()
@ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', type: ErrorResponseDto })
@ApiForbiddenResponse({ description: 'The token may not use this route.', type: ErrorResponseDto })
@AiRoutes('monitoring')
@UseGuards(BearerAuthGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/monitoring')
export class MonitoringController {
  constructor(
    private readonly queue: IndexingQueueService,
    private readonly workers: IndexingWorkerService,
    private readonly embedding: EmbeddingService,
    private readonly activity: ProviderActivity,
  ) {}

  @Get('queue')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Indexing queue statistics',
    description:
      'Items by priority and state with the oldest age, the oldest runnable item\'s wait, dead letters by reason, and claimed items per ' +
      'worker process with their lease expiry (all from the database, the same on every instance), plus the answering instance\'s workers.',
  })
  @ApiOkResponse({ type: QueueStatisticsDto })
  async queueStatistics(): Promise<QueueStatisticsDto> {
    const [depth, deadLetters, leases] = await Promise.all([this.queue.depth(), this.queue.deadLettersByReason(), this.queue.leasesByOwner()]);
    // The oldest runnable item is the oldest of the per-priority `pending` rows (depth already reads them).
    const pending = depth.filter((row) => row.state === 'pending');
    return {
      depth: depth.map((row) => ({ ...row, priority: priorityLabel(row.priority) })),
      oldestPendingAgeSeconds: pending.length > 0 ? Math.max(...pending.map((row) => row.oldestAgeSeconds)) : null,
      deadLetters,
      leases,
      instance: this.workers.status(),
    };
  }

  @Get('provider')
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Embedding provider state',
    description:
      'The model, the rate limiter (limits, waiting callers, a Retry-After or quota hold), token counting, an outage in progress, and this ' +
      'instance\'s requests by outcome and its last 50 failed requests with their errors.',
  })
  @ApiOkResponse({ type: ProviderStateDto })
  providerState(): ProviderStateDto {
    const { name, model, dimensions } = this.embedding.provider;
    return {
      provider: name,
      model,
      dimensions,
      limiter: this.embedding.limiterSnapshot(),
      tokenCounting: this.embedding.tokenCounting,
      tokenRatio: this.embedding.tokenRatio ?? null,
      failingSince: this.embedding.failingSinceAt ?? null,
      since: this.activity.since,
      outcomes: this.activity.outcomes(),
      recentErrors: this.activity.recentErrors(),
    };
  }
}
