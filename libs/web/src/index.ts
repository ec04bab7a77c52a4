/** @ai-infrastructure/web — REST controllers of the AI infrastructure libraries. */
export { AiWebModule } from './ai-web.module';
export { AI_WEB_OPTIONS } from './ai-web.constants';
export type { AiApiRole, AiApiToken, AiWebModuleOptions } from './ai-web.options';
export { resolveAiWebOptions, type ResolvedAiWebOptions } from './ai-web-options.resolver';
export { configureAiWebApp, createAiOpenApiDocument, type ConfigureAiWebAppOptions } from './app/configure-ai-web-app';
export { BearerAuthGuard, CurrentAiPrincipal, type AiPrincipal } from './auth';
export { AiExceptionFilter, ErrorResponseDto, FieldErrorDto, validationExceptionFactory } from './errors';
export * from './migration';
export { SearchQueryDto } from './search/search-query.dto';
export { SearchHitDto, SearchResponseDto } from './search/search-result.dto';
