export type { AiIndexPurgeResult } from './ai-index-purge-result.interface';
export { AiIndexPurgeError } from './ai-index-purge.errors';
export { AiIndexPurgeService } from './ai-index-purge.service';
