import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type { EmbeddingUsage } from '../embedding/embedding-usage';
import type { UsagePricing } from '../usage/provider-usage.interface';

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
  /** The item's queue priority, where known (live items are HIGH). */
  priority?: number;
  /** When the item was queued, where known: with the outcome's time, how long the change took to become searchable. */
  enqueuedAt?: Date;
}

/**
 * What the provider requests of a chunk of items cost, per owner and model: reported with the outcomes, in
 * the transaction that records the items' results (stored, re-queued or dead), so it is counted exactly
 * once with them.
 */
export interface OwnerUsage {
  owner: string | null;
  provider: string;
  model: string;
  usage: EmbeddingUsage;
  /** `batch` when the tokens went through the provider's Batch API (half price). Default `sync`. */
  pricing?: UsagePricing;
}

/**
 * Called inside the transaction that completes, re-queues or dead-letters items, with their final outcomes
 * and what their provider requests cost; throwing rolls the whole chunk back.
 */
export type IndexingOutcomeListener = (manager: EntityManager, outcomes: IndexingOutcome[], usage: OwnerUsage[]) => Promise<void>;

/** The next provider request of a worker would carry `tokens` tokens of `owner`'s items for `model`. */
export interface UsageAdmissionRequest {
  owner: string;
  provider: string;
  model: string;
  tokens: number;
  /** `batch` when the request is a provider batch (half price). Default `sync`. */
  pricing?: UsagePricing;
}

/**
 * Asked before a worker sends a request carrying owned items (live items are never asked): returns, per
 * refused owner, why (a sentence with the amounts). A refused owner's items go back to the queue without
 * using an attempt, and the budget listeners hear of it.
 */
export type UsageAdmissionCheck = (requests: UsageAdmissionRequest[]) => Promise<Map<string, string>>;

/** Called after a worker put back the items of owners whose budget refused a request, with each owner's reason. */
export type BudgetExceededListener = (refusals: Map<string, string>) => Promise<void> | void;

/**
 * Why a claimed item went back to the queue instead of finishing: `stale` (its entity changed while it
 * was embedded), a provider deferral's reason (`rate-limit`, `quota`, `unavailable`, `transient`, `failed`,
 * `budget`, `shutdown`), `error` (its batch failed outside the provider calls) or `released` (shutdown).
 */
export interface IndexingRequeue {
  entityType: string;
  reason: string;
}

/** Called, synchronously and inside the transaction that re-queues them, with items that went back to the queue. */
export type IndexingRequeueListener = (items: IndexingRequeue[]) => void;

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
  private readonly admissionChecks: UsageAdmissionCheck[] = [];
  private readonly budgetListeners: BudgetExceededListener[] = [];
  private readonly requeueListeners: IndexingRequeueListener[] = [];

  /** Registers a listener for final outcomes; returns a function that removes it. */
  onOutcomes(listener: IndexingOutcomeListener): () => void {
    this.outcomeListeners.push(listener);
    return () => this.outcomeListeners.splice(this.outcomeListeners.indexOf(listener) >>> 0, 1);
  }

  /** Registers a listener for items that went back to the queue (for metrics); returns a function that removes it. */
  onRequeued(listener: IndexingRequeueListener): () => void {
    this.requeueListeners.push(listener);
    return () => this.requeueListeners.splice(this.requeueListeners.indexOf(listener) >>> 0, 1);
  }

  /** @internal Tells the requeue listeners; a throwing listener is skipped (metrics must not fail a batch). */
  emitRequeued(items: IndexingRequeue[]): void {
    if (items.length === 0) return;
    for (const listener of this.requeueListeners) {
      try {
        listener(items);
      } catch {
        // A metrics listener's failure is not the batch's.
      }
    }
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

  /**
   * Registers a check of owners' budgets before provider requests (the migration module: a job's maxTokens
   * and maxCost, the daily cap of backfills); returns a function that removes it.
   */
  onAdmitUsage(check: UsageAdmissionCheck): () => void {
    this.admissionChecks.push(check);
    return () => this.admissionChecks.splice(this.admissionChecks.indexOf(check) >>> 0, 1);
  }

  /** Registers a listener for requests refused by a budget (the migration module pauses the jobs); returns a function that removes it. */
  onBudgetExceeded(listener: BudgetExceededListener): () => void {
    this.budgetListeners.push(listener);
    return () => this.budgetListeners.splice(this.budgetListeners.indexOf(listener) >>> 0, 1);
  }

  /** @internal Whether any admission check is registered (otherwise workers skip the question). */
  get checksUsage(): boolean {
    return this.admissionChecks.length > 0;
  }

  /** @internal The owners refused by any check, with the first reason given. */
  async admitUsage(requests: UsageAdmissionRequest[]): Promise<Map<string, string>> {
    const refused = new Map<string, string>();
    if (requests.length === 0) return refused;
    for (const check of this.admissionChecks) {
      for (const [owner, reason] of await check(requests)) if (!refused.has(owner)) refused.set(owner, reason);
    }
    return refused;
  }

  /** @internal */
  async emitBudgetExceeded(refusals: Map<string, string>): Promise<void> {
    if (refusals.size === 0) return;
    for (const listener of this.budgetListeners) await listener(refusals);
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
  async emitOutcomes(manager: EntityManager, outcomes: IndexingOutcome[], usage: OwnerUsage[] = []): Promise<void> {
    if (outcomes.length === 0 && usage.length === 0) return;
    for (const listener of this.outcomeListeners) await listener(manager, outcomes, usage);
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
