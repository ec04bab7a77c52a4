import { Controller, Get } from '@nestjs/common';
import { ApiOkResponse, ApiServiceUnavailableResponse, ApiTags } from '@nestjs/swagger';
import { HealthCheck, HealthCheckService, TypeOrmHealthIndicator } from '@nestjs/terminus';
import { IndexingHealthIndicator } from './indexing-health.indicator';

/** Liveness and readiness of the AI pipeline. */
@ApiTags('monitoring')
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
  check() {
    return this.health.check([
      () => this.database.pingCheck('database'),
      () => this.indexing.queueCheck(),
      () => this.indexing.providerCheck(),
    ]);
  }
}
