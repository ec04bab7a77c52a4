import { EMBEDDING_PROVIDER, IndexingQueueService, type EmbeddingProvider } from '@ai-infrastructure/core';
import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { ResolvedAiWebOptions } from '../ai-web-options.resolver';
import { AI_WEB_OPTIONS } from '../ai-web.constants';

/** Health of the indexing pipeline: queue depth and lag, and provider reachability. */
@Injectable()
export class IndexingHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly queue: IndexingQueueService,
    @Inject(EMBEDDING_PROVIDER) private readonly provider: EmbeddingProvider,
    @Inject(AI_WEB_OPTIONS) private readonly options: ResolvedAiWebOptions,
  ) {}

  /** Down when the oldest runnable item waited longer than `health.maxQueueAgeSeconds`. */
  async queueCheck(key = 'indexingQueue') {
    const indicator = this.indicators.check(key);
    const stats = await this.queue.stats();
    const maxAge = this.options.health.maxQueueAgeSeconds;
    const data = { ...stats, maxQueueAgeSeconds: maxAge };
    return (stats.oldestPendingAgeSeconds ?? 0) > maxAge ? indicator.down(data) : indicator.up(data);
  }

  /** Down when the provider's health check fails (providers without one are reported up). */
  async providerCheck(key = 'embeddingProvider') {
    const indicator = this.indicators.check(key);
    const data = { name: this.provider.name, model: this.provider.model, dimensions: this.provider.dimensions };
    try {
      await this.provider.checkHealth?.();
      return indicator.up(data);
    } catch (error) {
      return indicator.down({ ...data, message: (error as Error).message });
    }
  }
}
