import { Global, Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerStorageService, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { AI_WEB_OPTIONS, AI_WEB_THROTTLER_OPTIONS, AI_WEB_THROTTLER_STORAGE } from './ai-web.constants';
import { AI_WEB_ASYNC_OPTIONS_TYPE, AI_WEB_MODULE_OPTIONS, AI_WEB_OPTIONS_TYPE, AiWebConfigurableModule } from './ai-web.module-definition';
import type { AiWebModuleOptions } from './ai-web.options';
import { resolveAiWebOptions, type ResolvedAiWebOptions } from './ai-web-options.resolver';
import { HealthController } from './health/health.controller';
import { IndexingHealthIndicator } from './health/indexing-health.indicator';
import { MigrationWebModule } from './migration/migration-web.module';
import { SearchController } from './search/search.controller';

/**
 * REST endpoints of the AI libraries: `GET /api/ai/search`, `GET /api/ai/monitoring/health`, and
 * `/api/ai/migration` — the last only when MigrationModule is in the same application (in any import
 * order). Requires `AiCoreModule`. With MigrationModule present, `auth` must be configured.
 *
 * @example
 * ```ts
 * imports: [
 *   TypeOrmModule.forRootAsync(...),
 *   AiCoreModule.forRoot({...}),
 *   MigrationModule.forRoot(),
 *   AiWebModule.forRoot({ auth: { tokens: [{ name: 'ops', token: process.env.AI_ADMIN_TOKEN!, role: 'admin' }] } }),
 * ]
 * ```
 */
@Global()
@Module({
  imports: [TerminusModule, MigrationWebModule],
  controllers: [SearchController, HealthController],
  providers: [
    {
      provide: AI_WEB_OPTIONS,
      useFactory: (options: AiWebModuleOptions) => resolveAiWebOptions(options),
      inject: [AI_WEB_MODULE_OPTIONS],
    },
    {
      provide: AI_WEB_THROTTLER_OPTIONS,
      useFactory: (options: ResolvedAiWebOptions): ThrottlerModuleOptions =>
        options.throttle
          ? { throttlers: [{ name: 'default', limit: options.throttle.limit, ttl: options.throttle.ttlMs }] }
          : { throttlers: [{ name: 'default', limit: Number.MAX_SAFE_INTEGER, ttl: 1000 }], skipIf: () => true },
      inject: [AI_WEB_OPTIONS],
    },
    { provide: AI_WEB_THROTTLER_STORAGE, useClass: ThrottlerStorageService },
    IndexingHealthIndicator,
  ],
  exports: [AI_WEB_OPTIONS, AI_WEB_THROTTLER_OPTIONS, AI_WEB_THROTTLER_STORAGE],
})
export class AiWebModule extends AiWebConfigurableModule {
  /** Registers the web endpoints with static options; invalid options fail at once, naming the key. */
  static override forRoot(options: typeof AI_WEB_OPTIONS_TYPE = {}) {
    resolveAiWebOptions(options);
    return super.forRoot(options);
  }

  /** Registers the web endpoints with options from a factory, class or existing provider (validated at startup). */
  static override forRootAsync(options: typeof AI_WEB_ASYNC_OPTIONS_TYPE) {
    return super.forRootAsync(options);
  }
}
