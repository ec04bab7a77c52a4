import { Controller, Get, Header, UseFilters, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiOperation, ApiProduces, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AiRoutes } from '../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { AiExceptionFilter } from '../errors/ai-exception.filter';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { AiMetricsRegistry } from './ai-metrics.registry';

/** The Prometheus text format prom-client writes (version 0.0.4). */
const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/**
 * `GET /api/ai/monitoring/metrics`: the AI libraries' metrics for Prometheus, for a viewer or admin token
 * (or anonymous callers when `auth.anonymous` lists `monitoring`).
 */
@ApiTags('monitoring')
@ApiBearerAuth()
@AiRoutes('monitoring')
@UseGuards(BearerAuthGuard)
@UseFilters(AiExceptionFilter)
@Controller('api/ai/monitoring')
export class MetricsController {
  constructor(private readonly metrics: AiMetricsRegistry) {}

  @Get('metrics')
  @Header('Content-Type', PROMETHEUS_CONTENT_TYPE)
  @Header('Cache-Control', 'no-store')
  @ApiOperation({
    summary: 'Prometheus metrics',
    description:
      'Queue depth and oldest pending age by priority, item outcomes, embedding requests, tokens and cost, the rate limiter, and (with MigrationModule) jobs by status and the progress, throughput and ETA of active jobs. ' +
      'Needs a viewer or admin bearer token (a viewer token for the scraper: `authorization: { type: Bearer, credentials: <token> }` in the scrape config).',
  })
  @ApiProduces(PROMETHEUS_CONTENT_TYPE)
  @ApiOkResponse({ description: 'The Prometheus text exposition format.', schema: { type: 'string' } })
  @ApiUnauthorizedResponse({ description: 'No or an invalid bearer token.', type: ErrorResponseDto })
  async scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
