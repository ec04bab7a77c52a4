import { EmbeddingRequestEvents, IndexingPriority, IndexingQueueService, ProviderUsageService } from '@ai-infrastructure/core';
import { IndexingHooks, ProviderRateLimiter } from '@ai-infrastructure/core/internal';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import { Counter, Gauge, Histogram } from 'prom-client';
import { AiMetricsRegistry } from './ai-metrics.registry';

const PRIORITY_NAMES = new Map<number, string>([
  [IndexingPriority.HIGH, 'high'],
  [IndexingPriority.NORMAL, 'normal'],
  [IndexingPriority.LOW, 'low'],
  [IndexingPriority.BATCH, 'batch'],
]);

/** A queue priority as a label: its name for the standard ones, the number otherwise (bounded: priorities are few). */
export function priorityLabel(priority: number): string {
  return PRIORITY_NAMES.get(priority) ?? String(priority);
}

/**
 * @internal The indexing pipeline's metrics. Queue gauges and provider usage are read from the database at
 * each scrape, so every instance reports the same figures (aggregate them with `max`, not `sum`); item
 * outcomes, request outcomes and durations, live lag and the limiter are this instance's own (aggregate
 * with `sum`). Item outcomes are counted as the workers report them, inside the transaction that records
 * them: a transaction that then fails to commit has been counted (its items are retried and counted again).
 */
@Injectable()
export class IndexingMetrics implements OnModuleInit, OnModuleDestroy {
  private stopListening: Array<() => void> = [];
  private items?: Counter<'entity_type' | 'result'>;

  constructor(
    private readonly metrics: AiMetricsRegistry,
    private readonly queue: IndexingQueueService,
    private readonly usage: ProviderUsageService,
    private readonly hooks: IndexingHooks,
    private readonly limiter: ProviderRateLimiter,
    private readonly requests: EmbeddingRequestEvents,
  ) {}

  onModuleInit(): void {
    const registers = [this.metrics.registry];
    const queue = this.queue;
    let depth: Promise<Awaited<ReturnType<IndexingQueueService['depth']>>> | undefined;
    // One query per scrape serves both queue gauges.
    const readDepth = () => (depth ??= queue.depth().finally(() => setImmediate(() => (depth = undefined))));
    new Gauge({
      name: 'ai_indexing_queue_items',
      help: 'Items in the indexing queue by priority and state (pending: runnable now; delayed: waiting for a retry; active: claimed; dead: dead-lettered). From the database.',
      labelNames: ['priority', 'state'],
      registers,
      async collect() {
        this.reset();
        for (const row of await readDepth()) this.set({ priority: priorityLabel(row.priority), state: row.state }, row.items);
      },
    });
    new Gauge({
      name: 'ai_indexing_queue_oldest_pending_age_seconds',
      help: 'Age of the oldest runnable pending item per priority, in seconds (0 when none). From the database.',
      labelNames: ['priority'],
      registers,
      async collect() {
        this.reset();
        for (const name of PRIORITY_NAMES.values()) this.set({ priority: name }, 0);
        for (const row of await readDepth()) if (row.state === 'pending') this.set({ priority: priorityLabel(row.priority) }, row.oldestAgeSeconds);
      },
    });
    this.items = new Counter({
      name: 'ai_indexing_items_total',
      help: 'Queue items this instance finished, by entity type and result (indexed, unchanged, removed, dead).',
      labelNames: ['entity_type', 'result'],
      registers,
    });
    const usage = this.usage;
    let usageRows: ReturnType<ProviderUsageService['totals']> | undefined;
    // One query per scrape serves the three usage counters.
    const totals = () => (usageRows ??= usage.totals().finally(() => setImmediate(() => (usageRows = undefined))));
    const usageCounter = (name: string, help: string, field: 'tokens' | 'requests' | 'cost') =>
      new Counter({
        name,
        help: `${help}, by scope (live, backfill, search) and model. From the database (all instances).`,
        labelNames: ['scope', 'model'],
        registers,
        async collect() {
          this.reset();
          for (const row of await totals()) this.inc({ scope: row.scope, model: row.model }, row[field]);
        },
      });
    usageCounter('ai_embedding_tokens_total', 'Tokens billed by the embedding provider, as reported by the provider', 'tokens');
    usageCounter('ai_embedding_requests_total', 'Embedding requests sent, failed attempts included', 'requests');
    usageCounter('ai_embedding_cost_usd_total', 'Cost of the embedding tokens in USD at the configured pricing', 'cost');
    const limiter = this.limiter;
    new Gauge({
      name: 'ai_embedding_rate_limiter_waiting',
      help: "Callers of this instance waiting for the provider rate limiter's capacity.",
      registers,
      collect() {
        this.set(limiter.pending);
      },
    });
    new Gauge({
      name: 'ai_embedding_rate_limiter_blocked_seconds',
      help: "Seconds this instance's rate limiter still holds every request back after a 429's Retry-After or an exhausted quota (0: not blocked).",
      registers,
      collect() {
        this.set(limiter.blockedMs / 1000);
      },
    });
    const outcomes = new Counter({
      name: 'ai_embedding_request_outcomes_total',
      help: 'Embedding requests this instance sent, each attempt once, by model, lane (interactive: live and search; bulk: backfills) and outcome (success, rate_limited, quota_exceeded, timeout, rejected, transient_error, error).',
      labelNames: ['model', 'lane', 'outcome'],
      registers,
    });
    const durations = new Histogram({
      name: 'ai_embedding_request_duration_seconds',
      help: 'Duration of the embedding requests this instance sent, from sending to the answer or failure, by model and lane.',
      labelNames: ['model', 'lane'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
      registers,
    });
    const lag = new Histogram({
      name: 'ai_live_indexing_lag_seconds',
      help: 'Live indexing lag on this instance: from a live change being queued (the save) to its vector being written (searchable at commit), by entity type.',
      labelNames: ['entity_type'],
      buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
      registers,
    });
    const requeued = new Counter({
      name: 'ai_indexing_items_requeued_total',
      help: 'Claimed items this instance put back in the queue instead of finishing them (retried later), by entity type and reason (stale, rate-limit, quota, unavailable, transient, failed, budget, shutdown, error, released).',
      labelNames: ['entity_type', 'reason'],
      registers,
    });
    this.stopListening.push(
      this.hooks.onRequeued((items) => {
        for (const item of items) requeued.inc({ entity_type: item.entityType, reason: item.reason });
      }),
      this.requests.on((event) => {
        outcomes.inc({ model: event.model, lane: event.lane, outcome: event.outcome });
        durations.observe({ model: event.model, lane: event.lane }, event.durationSeconds);
      }),
      this.hooks.onOutcomes(async (_manager, finished) => {
        const now = Date.now();
        for (const outcome of finished) {
          this.items!.inc({ entity_type: outcome.entityType, result: outcome.result });
          const live = outcome.priority !== undefined && outcome.priority >= IndexingPriority.HIGH;
          if (live && outcome.enqueuedAt && (outcome.result === 'indexed' || outcome.result === 'removed')) {
            lag.observe({ entity_type: outcome.entityType }, Math.max(0, now - outcome.enqueuedAt.getTime()) / 1000);
          }
        }
      }),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.stopListening) stop();
    this.stopListening = [];
  }
}
