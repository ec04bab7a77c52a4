import { Inject, Injectable } from '@nestjs/common';
import type { DataSource, EntityManager } from 'typeorm';
import { AI_CORE_RESOLVED_OPTIONS, AI_DATA_SOURCE } from '../ai-core.constants';
import type { ResolvedAiCoreOptions } from '../config/ai-core-options.resolver';
import { hasUsage } from '../embedding/embedding-usage';
import type { ModelUsage, ProviderUsageQuery, ProviderUsageTotal, UsagePricing, UsageScope } from './provider-usage.interface';

/** What a Batch API request costs relative to a synchronous one (OpenAI: half). */
export const BATCH_PRICE_FACTOR = 0.5;

/**
 * Metering of the embedding providers: prices usage at the configured `pricing` and keeps daily totals per
 * scope (live indexing, backfills, search) and model in `ai_provider_usage`. The workers record usage in
 * the transaction that stores the vectors (or records the failure) it paid for, so a crash neither loses
 * nor double-counts what was committed.
 *
 * @example
 * ```ts
 * const today = await usage.totals({ from: '2026-12-02', to: '2026-12-02' });
 * ```
 */
@Injectable()
export class ProviderUsageService {
  constructor(
    @Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource,
    @Inject(AI_CORE_RESOLVED_OPTIONS) private readonly options: ResolvedAiCoreOptions,
  ) {}

  /** The configured price of `model` in USD per 1M tokens, or undefined when none is configured. */
  priceOf(model: string): number | undefined {
    return Object.prototype.hasOwnProperty.call(this.options.pricing, model) ? this.options.pricing[model] : undefined;
  }

  /** USD for `tokens` of `model` (0 without a configured price); batch requests cost {@link BATCH_PRICE_FACTOR} of it. */
  costOf(model: string, tokens: number, pricing: UsagePricing = 'sync'): number {
    const price = this.priceOf(model) ?? 0;
    return ((tokens * price) / 1_000_000) * (pricing === 'batch' ? BATCH_PRICE_FACTOR : 1);
  }

  /**
   * Adds `usage` to today's (UTC) totals of `scope`, in `manager`'s transaction (or on its own). One
   * statement per model; rows are locked in one order (by model) so concurrent recorders cannot deadlock.
   */
  async record(scope: UsageScope, usage: ModelUsage[], manager?: EntityManager, pricing: UsagePricing = 'sync'): Promise<void> {
    const rows = usage.filter(hasUsage).sort((a, b) => (a.provider + a.model < b.provider + b.model ? -1 : 1));
    for (const row of rows) {
      await (manager ?? this.dataSource.manager).query(
        `INSERT INTO ai_provider_usage AS u (day, scope, provider, model, requests, failed_requests, tokens, estimated_tokens, cost)
         VALUES ((now() AT TIME ZONE 'UTC')::date, $1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (day, scope, provider, model) DO UPDATE SET
           requests = u.requests + EXCLUDED.requests,
           failed_requests = u.failed_requests + EXCLUDED.failed_requests,
           tokens = u.tokens + EXCLUDED.tokens,
           estimated_tokens = u.estimated_tokens + EXCLUDED.estimated_tokens,
           cost = u.cost + EXCLUDED.cost`,
        [scope, row.provider, row.model, row.requests, row.failedRequests, row.tokens, row.estimatedTokens, this.costOf(row.model, row.tokens, pricing)],
      );
    }
  }

  /** Daily totals matching `query`, newest day first. */
  async totals(query: ProviderUsageQuery = {}, manager?: EntityManager): Promise<ProviderUsageTotal[]> {
    const rows: Array<Record<string, unknown>> = await (manager ?? this.dataSource.manager).query(
      `SELECT to_char(day, 'YYYY-MM-DD') AS day, scope, provider, model, requests, failed_requests, tokens, estimated_tokens, cost
         FROM ai_provider_usage
        WHERE ($1::varchar IS NULL OR scope = $1) AND ($2::date IS NULL OR day >= $2::date) AND ($3::date IS NULL OR day <= $3::date)
        ORDER BY day DESC, scope, provider, model`,
      [query.scope ?? null, query.from ?? null, query.to ?? null],
    );
    return rows.map((r) => ({
      day: String(r.day),
      scope: r.scope as UsageScope,
      provider: String(r.provider),
      model: String(r.model),
      requests: Number(r.requests),
      failedRequests: Number(r.failed_requests),
      tokens: Number(r.tokens),
      estimatedTokens: Number(r.estimated_tokens),
      cost: Number(r.cost),
    }));
  }

  /** Today's (UTC) tokens and cost of `scope`, all models together. */
  async today(scope: UsageScope, manager?: EntityManager): Promise<{ tokens: number; cost: number }> {
    const [row]: Array<{ tokens: number | null; cost: number | null }> = await (manager ?? this.dataSource.manager).query(
      `SELECT sum(tokens) AS tokens, sum(cost) AS cost FROM ai_provider_usage WHERE day = (now() AT TIME ZONE 'UTC')::date AND scope = $1`,
      [scope],
    );
    return { tokens: Number(row?.tokens ?? 0), cost: Number(row?.cost ?? 0) };
  }
}
