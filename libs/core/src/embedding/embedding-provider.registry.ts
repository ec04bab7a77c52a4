import { spaceKey } from '../generation/generation-definition';
import type { EmbeddingService } from './embedding.service';

/**
 * The embedding services of this instance by embedding space (model and dimensions): the configured
 * `embedding` and every `retainedEmbeddings` entry. A generation is embedded (its texts by the workers,
 * its queries by search) by the service of its space.
 * @internal
 */
export class EmbeddingProviderRegistry {
  private readonly bySpace = new Map<string, EmbeddingService>();

  /**
   * @param current the service of the `embedding` option (the one new generations use)
   * @param retained the services of `retainedEmbeddings`, in configuration order
   */
  constructor(
    readonly current: EmbeddingService,
    retained: EmbeddingService[] = [],
  ) {
    for (const [index, service] of [current, ...retained].entries()) {
      const key = spaceKey(service.provider);
      if (this.bySpace.has(key)) {
        const where = index === 0 ? '"embedding"' : `"retainedEmbeddings[${index - 1}]"`;
        throw new Error(
          `AiCoreModule option ${where} configures ${service.provider.model} with ${service.provider.dimensions} dimensions, ` +
            `which an earlier entry already configures; list each embedding space once.`,
        );
      }
      this.bySpace.set(key, service);
    }
  }

  /** The service embedding in this space, or undefined when no configured provider has it. */
  forSpace(space: { model: string; dimensions: number }): EmbeddingService | undefined {
    return this.bySpace.get(spaceKey(space));
  }

  /** Every configured service, the current one first. */
  all(): EmbeddingService[] {
    return [...this.bySpace.values()];
  }

  /** "model (n dimensions)" of every configured space, for error messages. */
  describe(): string {
    return this.all()
      .map((s) => `${s.provider.model} (${s.provider.dimensions} dimensions)`)
      .join(', ');
  }

  /** Lifts the back-off of every provider (an operator resumed work paused for a quota or an outage). */
  clearBackOff(): void {
    for (const service of this.all()) service.clearBackOff();
  }
}
