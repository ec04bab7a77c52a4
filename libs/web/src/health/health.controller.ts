import { Controller, Get, UseGuards } from '@nestjs/common';
import { ApiBearerAuth, ApiOkResponse, ApiServiceUnavailableResponse, ApiTags, ApiUnauthorizedResponse } from '@nestjs/swagger';
import { AiRoutes } from '../auth/ai-route-group.decorator';
import { BearerAuthGuard } from '../auth/bearer-auth.guard';
import { ErrorResponseDto } from '../errors/error-response.dto';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { IndexingHealthIndicator } from './indexing-health.indicator';

/**
 * Liveness and readiness of the AI pipeline. Needs a bearer token of a viewer or admin unless
 * `auth.anonymous` lists `health` (what load-balancer probes usually need). No AiExceptionFilter here:
 * the 503 body is Terminus's own (`info`, `error`, `details` per check), which monitors parse.
 */
@ApiTags('monitoring')
@ApiBearerAuth()
@AiRoutes('health')
@UseGuards(BearerAuthGuard)
@Controller('api/ai/monitoring')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly database: TypeOrmHealthIndicator,
    private readonly indexing: IndexingHealthIndicator,
  ) {}

  @Get('health')
  @HealthCheck()
  @ApiOkResponse({ description: 'Database, indexing queue and embedding provider are healthy.' })
  @ApiServiceUnavailableResponse({ description: 'At least one check is down; the body says which and why.' })
  @ApiUnauthorizedResponse({ description: 'No or an invalid bearer token (unless auth.anonymous opens health).', type: ErrorResponseDto })
  check() {
    return this.health.check([
      () => this.database.pingCheck('database'),
      () => this.indexing.queueCheck(),
      () => this.indexing.providerCheck(),
    ]);
  }
}
