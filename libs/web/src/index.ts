/**
 * @ai-infrastructure/web — REST controllers of the AI infrastructure libraries.
 *
 * This entry point never requires `@ai-infrastructure/migration-core` (an optional peer). The migration
 * endpoints' DTOs and controller are exported from `@ai-infrastructure/web/migration`, which does.
 */
export { AiWebModule } from './ai-web.module';
export { AI_WEB_OPTIONS } from './ai-web.constants';
export type { AiApiRole, AiApiToken, AiRouteGroup, AiSearchScope, AiWebModuleOptions } from './ai-web.options';
export { resolveAiWebOptions, type ResolvedAiWebOptions } from './ai-web-options.resolver';
export { configureAiWebApp, createAiOpenApiDocument, type ConfigureAiWebAppOptions } from './app/configure-ai-web-app';
export { AiRoutes, AiSessionDto, BearerAuthGuard, CurrentAiPrincipal, type AiGuardedRouteGroup, type AiPrincipal } from './auth';
export { AiExceptionFilter, ErrorResponseDto, FieldErrorDto, validationExceptionFactory } from './errors';
export { IS_STORABLE_TEXT, IsStorableText, RequireJsonBodyGuard } from './validation';
export { AiMetricsRegistry } from './metrics';
export * from './monitoring';
export { MissingPackageError } from './utils/missing-package.error';
export { SearchQueryDto } from './search/search-query.dto';
export { SearchHitDto, SearchResponseDto } from './search/search-result.dto';
