import { Global, Module, type DynamicModule, type Type } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerStorageService, type ThrottlerModuleOptions } from '@nestjs/throttler';
import { AI_WEB_OPTIONS, AI_WEB_SEARCH_THROTTLER_OPTIONS, AI_WEB_THROTTLER_OPTIONS, AI_WEB_THROTTLER_STORAGE } from './ai-web.constants';
import { AI_WEB_ASYNC_OPTIONS_TYPE, AI_WEB_MODULE_OPTIONS, AI_WEB_OPTIONS_TYPE, AiWebConfigurableModule } from './ai-web.module-definition';
import type { AiWebModuleOptions } from './ai-web.options';
import { resolveAiWebOptions, type ResolvedAiWebOptions } from './ai-web-options.resolver';
import { AiAuthController } from './auth/ai-auth.controller';
import { OpenAccessNotice } from './auth/open-access.notice';
import { HealthController } from './health/health.controller';
import { IndexingHealthIndicator } from './health/indexing-health.indicator';
import { AiMetricsRegistry } from './metrics/ai-metrics.registry';
import { IndexingMetrics } from './metrics/indexing.metrics';
import { MetricsController } from './metrics/metrics.controller';
import { MonitoringController } from './monitoring/monitoring.controller';
import { ProviderActivity } from './monitoring/provider-activity';
import { SearchController } from './search/search.controller';
import { loadOptionalPackage, MIGRATION_CORE_PACKAGE } from './utils/load-package.util';

/**
 * REST endpoints of the AI libraries: `GET /api/ai/search`, `/api/ai/monitoring/*` (health, metrics, queue,
 * provider), `GET /api/ai/auth/me`, and `/api/ai/migration` with its dashboard and `/api/ai/audit` — the
 * last three only when MigrationModule is in the same application (in any import order). Requires
 * `AiCoreModule`. `auth` is required: every route needs a bearer token unless `auth.anonymous` opens its
 * group (logged at startup) or authentication is disabled explicitly.
 *
 * `@ai-infrastructure/migration-core` is an optional peer: without it installed, this module loads and
 * serves search and health, and `/api/ai/migration/*` answers 404.
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
  imports: [TerminusModule],
  controllers: [SearchController, HealthController, MetricsController, MonitoringController, AiAuthController],
  providers: [
    {
      provide: AI_WEB_OPTIONS,
      useFactory: (options: AiWebModuleOptions) => resolveAiWebOptions(options),
      inject: [AI_WEB_MODULE_OPTIONS],
    },
    {
      provide: AI_WEB_THROTTLER_OPTIONS,
      useFactory: (options: ResolvedAiWebOptions) => throttlerOptions(options.throttle),
      inject: [AI_WEB_OPTIONS],
    },
    {
      provide: AI_WEB_SEARCH_THROTTLER_OPTIONS,
      useFactory: (options: ResolvedAiWebOptions) => throttlerOptions(options.search.throttle),
      inject: [AI_WEB_OPTIONS],
    },
    { provide: AI_WEB_THROTTLER_STORAGE, useClass: ThrottlerStorageService },
    IndexingHealthIndicator,
    AiMetricsRegistry,
    IndexingMetrics,
    ProviderActivity,
    OpenAccessNotice,
  ],
  exports: [AI_WEB_OPTIONS, AI_WEB_THROTTLER_OPTIONS, AI_WEB_SEARCH_THROTTLER_OPTIONS, AI_WEB_THROTTLER_STORAGE, AiMetricsRegistry],
})
export class AiWebModule extends AiWebConfigurableModule {
  /** Registers the web endpoints with static options; invalid options fail at once, naming the key. */
  static override forRoot(options: typeof AI_WEB_OPTIONS_TYPE = {}) {
    resolveAiWebOptions(options);
    return withMigrationEndpoints(super.forRoot(options));
  }

  /** Registers the web endpoints with options from a factory, class or existing provider (validated at startup). */
  static override forRootAsync(options: typeof AI_WEB_ASYNC_OPTIONS_TYPE) {
    return withMigrationEndpoints(super.forRootAsync(options));
  }
}

/** @nestjs/throttler options of one `{ limit, ttlMs } | false` option (`false`: every request passes). */
function throttlerOptions(throttle: { limit: number; ttlMs: number } | false): ThrottlerModuleOptions {
  return throttle
    ? { throttlers: [{ name: 'default', limit: throttle.limit, ttl: throttle.ttlMs }] }
    : { throttlers: [{ name: 'default', limit: Number.MAX_SAFE_INTEGER, ttl: 1000 }], skipIf: () => true };
}

/**
 * Adds the module of the migration endpoints when `@ai-infrastructure/migration-core` is installed. It is
 * required here, not imported at the top, because its controller, DTOs and gate import that package: a
 * search-only app that never installed it must still load this module. Whether the routes then exist is
 * decided per application by the gate (is `DataMigrationService` a provider of this app?).
 */
function withMigrationEndpoints(module: DynamicModule): DynamicModule {
  const migrationWebModule = loadOptionalPackage<Type>(
    MIGRATION_CORE_PACKAGE,
    () => (require('./migration/migration-web.module') as typeof import('./migration/migration-web.module')).MigrationWebModule,
  );
  return migrationWebModule ? { ...module, imports: [...(module.imports ?? []), migrationWebModule] } : module;
}
