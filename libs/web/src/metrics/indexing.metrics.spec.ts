import { IndexingPriority } from '@ai-infrastructure/core';
import { priorityLabel } from './indexing.metrics';

describe('priorityLabel', () => {
  it('names the standard priorities and keeps others as numbers', () => {
    expect([IndexingPriority.HIGH, IndexingPriority.NORMAL, IndexingPriority.LOW, IndexingPriority.BATCH, 75].map(priorityLabel)).toEqual([
      'high',
      'normal',
      'low',
      'batch',
      '75',
    ]);
  });
});
