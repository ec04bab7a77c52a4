export { AiSearchRequestError } from './ai-search.errors';
export type { AiSearchRequest, AiSearchResult } from './ai-search.interface';
export { AiSearchService } from './ai-search.service';
