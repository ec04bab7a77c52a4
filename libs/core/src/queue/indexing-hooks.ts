import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** What became of a queue item. `dead` means dead-lettered with `error`. */
export type IndexingResult = 'indexed' | 'unchanged' | 'removed' | 'dead';

/** The final outcome of one queue item, reported inside the transaction that made it final. */
export interface IndexingOutcome {
  itemId: string;
  entityType: string;
  entityId: string;
  owner: string | null;
  result: IndexingResult;
  error?: string;
}

/** Called inside the transaction that completes or dead-letters items; throwing rolls the whole batch back. */
export type IndexingOutcomeListener = (manager: EntityManager, outcomes: IndexingOutcome[]) => Promise<void>;

/** Called when the provider reports an exhausted quota for items of these owners. */
export type QuotaExceededListener = (owners: Array<string | null>, error: Error) => Promise<void> | void;

/**
 * Called when the provider has failed with transient errors only (5xx, timeouts, resets) for longer than
 * `providerRetry.outagePauseMs`, for items of these owners. The items stay queued (no attempt is used).
 */
export type ProviderUnavailableListener = (owners: Array<string | null>, error: Error) => Promise<void> | void;

/**
 * Tells which index generation the items of these owners target (a migration job targets one); owners
 * absent from the answer target every maintained generation of their entity type.
 */
export type OwnerTargetResolver = (owners: string[]) => Promise<Map<string, number>>;

/**
 * Extension points of the indexing pipeline for other libraries of the same app (the migration module
 * counts a job's progress here, in the same transaction as the vector writes). Per app instance.
 */
@Injectable()
export class IndexingHooks {
  private readonly outcomeListeners: IndexingOutcomeListener[] = [];
  private readonly quotaListeners: QuotaExceededListener[] = [];
  private readonly unavailableListeners: ProviderUnavailableListener[] = [];
  private readonly targetResolvers: OwnerTargetResolver[] = [];

  /** Registers a listener for final outcomes; returns a function that removes it. */
  onOutcomes(listener: IndexingOutcomeListener): () => void {
    this.outcomeListeners.push(listener);
    return () => this.outcomeListeners.splice(this.outcomeListeners.indexOf(listener) >>> 0, 1);
  }

  /** Registers a listener for quota errors; returns a function that removes it. */
  onQuotaExceeded(listener: QuotaExceededListener): () => void {
    this.quotaListeners.push(listener);
    return () => this.quotaListeners.splice(this.quotaListeners.indexOf(listener) >>> 0, 1);
  }

  /**
   * Registers a listener for a provider outage that outlasted `providerRetry.outagePauseMs` (the migration
   * module pauses the owners' jobs); returns a function that removes it.
   */
  onProviderUnavailable(listener: ProviderUnavailableListener): () => void {
    this.unavailableListeners.push(listener);
    return () => this.unavailableListeners.splice(this.unavailableListeners.indexOf(listener) >>> 0, 1);
  }

  /**
   * Registers a resolver of the generation an owner's items target (the migration module: a job's
   * generation); returns a function that removes it.
   */
  onResolveTargets(resolver: OwnerTargetResolver): () => void {
    this.targetResolvers.push(resolver);
    return () => this.targetResolvers.splice(this.targetResolvers.indexOf(resolver) >>> 0, 1);
  }

  /** @internal The generation of each owner that a resolver knows. */
  async resolveTargets(owners: string[]): Promise<Map<string, number>> {
    const targets = new Map<string, number>();
    if (owners.length === 0) return targets;
    for (const resolver of this.targetResolvers) {
      for (const [owner, generationId] of await resolver(owners.filter((o) => !targets.has(o)))) targets.set(owner, generationId);
    }
    return targets;
  }

  /** @internal */
  async emitOutcomes(manager: EntityManager, outcomes: IndexingOutcome[]): Promise<void> {
    if (outcomes.length === 0) return;
    for (const listener of this.outcomeListeners) await listener(manager, outcomes);
  }

  /** @internal */
  async emitQuotaExceeded(owners: Array<string | null>, error: Error): Promise<void> {
    for (const listener of this.quotaListeners) await listener(owners, error);
  }

  /** @internal */
  async emitProviderUnavailable(owners: Array<string | null>, error: Error): Promise<void> {
    for (const listener of this.unavailableListeners) await listener(owners, error);
  }
}
