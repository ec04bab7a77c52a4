export { EmbeddingBatchService, type OwnerBatchSummary } from './embedding-batch.service';
export { EmbeddingBatchRecord, type EmbeddingBatchRowStatus } from './embedding-batch.entity';
export { EmbeddingBatchItemRecord } from './embedding-batch-item.entity';
