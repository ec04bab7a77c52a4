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
 * outcomes and the limiter's waiters are this instance's own (aggregate with `sum`).
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
    this.stopListening.push(
      this.requests.on((event) => {
        outcomes.inc({ model: event.model, lane: event.lane, outcome: event.outcome });
        durations.observe({ model: event.model, lane: event.lane }, event.durationSeconds);
      }),
      this.hooks.onOutcomes(async (_manager, finished) => {
        for (const outcome of finished) this.items!.inc({ entity_type: outcome.entityType, result: outcome.result });
      }),
    );
  }

  onModuleDestroy(): void {
    for (const stop of this.stopListening) stop();
    this.stopListening = [];
  }
}
