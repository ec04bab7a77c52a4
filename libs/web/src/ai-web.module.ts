import { Module, type DynamicModule } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { AI_WEB_OPTIONS } from './ai-web.constants';
import type { AiWebModuleOptions } from './ai-web.options';
import { HealthController } from './health/health.controller';
import { IndexingHealthIndicator } from './health/indexing-health.indicator';
import { SearchController } from './search/search.controller';

/**
 * REST endpoints of the AI core: `GET /api/ai/search` and `GET /api/ai/monitoring/health`.
 * Requires `AiCoreModule` in the same application.
 *
 * @example
 * ```ts
 * imports: [TypeOrmModule.forRootAsync(...), AiCoreModule.forRoot({...}), AiWebModule.forRoot()]
 * ```
 */
@Module({})
export class AiWebModule {
  /** Registers the web endpoints with static options. */
  static forRoot(options: AiWebModuleOptions = {}): DynamicModule {
    const maxAge = options.health?.maxQueueAgeSeconds;
    if (maxAge !== undefined && (!Number.isInteger(maxAge) || maxAge < 1)) {
      throw new Error(
        `AiWebModule option "health.maxQueueAgeSeconds" is ${JSON.stringify(maxAge)}; use a positive integer number of seconds (default 900).`,
      );
    }
    return {
      module: AiWebModule,
      imports: [TerminusModule],
      controllers: [SearchController, HealthController],
      providers: [{ provide: AI_WEB_OPTIONS, useValue: options }, IndexingHealthIndicator],
    };
  }
}
