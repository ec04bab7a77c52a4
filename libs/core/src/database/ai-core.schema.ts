import { IndexingQueueItem } from '../queue/indexing-queue-item.entity';
import { SearchableEntityRecord } from '../vector-store/searchable-entity.entity';
import { AiCoreInit1732100000000 } from './migrations/1732100000000-ai-core-init';
import { AiIndexingQueueOwnerLookups1732100000700 } from './migrations/1732100000700-ai-indexing-queue-owner-lookups';
import { AiIndexGenerations1732100000900 } from './migrations/1732100000900-ai-index-generations';
import { IndexAlias } from '../generation/index-alias.entity';
import { IndexGeneration } from '../generation/index-generation.entity';
import { ProviderUsageRecord } from '../usage/provider-usage.entity';
import { AiProviderUsage1732100000960 } from './migrations/1732100000960-ai-provider-usage';
import { ProviderCapacityRecord } from '../embedding/provider-capacity.entity';
import { AiProviderCapacity1732100000980 } from './migrations/1732100000980-ai-provider-capacity';
import { EmbeddingBatchRecord } from '../batch/embedding-batch.entity';
import { EmbeddingBatchItemRecord } from '../batch/embedding-batch-item.entity';
import { AiEmbeddingBatches1732100000990 } from './migrations/1732100000990-ai-embedding-batches';

/** TypeORM entities owned by the core library; add them to your DataSource's `entities`. */
export const AI_CORE_ENTITIES = [
  SearchableEntityRecord,
  IndexingQueueItem,
  IndexGeneration,
  IndexAlias,
  ProviderUsageRecord,
  ProviderCapacityRecord,
  EmbeddingBatchRecord,
  EmbeddingBatchItemRecord,
];

/** Versioned migrations of the core library, in order; add them to your DataSource's `migrations`. */
export const AI_CORE_MIGRATIONS = [
  AiCoreInit1732100000000,
  AiIndexingQueueOwnerLookups1732100000700,
  AiIndexGenerations1732100000900,
  AiProviderUsage1732100000960,
  AiProviderCapacity1732100000980,
  AiEmbeddingBatches1732100000990,
];
