/** @ai-infrastructure/web — REST controllers of the AI infrastructure libraries. */
export { AiWebModule } from './ai-web.module';
export { AI_WEB_OPTIONS } from './ai-web.constants';
export type { AiWebModuleOptions } from './ai-web.options';
export { configureAiWebApp, type ConfigureAiWebAppOptions } from './app/configure-ai-web-app';
export { SearchQueryDto } from './search/search-query.dto';
export { SearchHitDto, SearchResponseDto } from './search/search-result.dto';
