import type { EmbeddingUsage } from '../embedding/embedding-usage';

/** Who a provider request worked for: live indexing, a backfill (migration job), or a search query. */
export type UsageScope = 'live' | 'backfill' | 'search';

/** How a request was priced: `sync` at the model's price, `batch` (a Batch API) at half of it. */
export type UsagePricing = 'sync' | 'batch';

/** Usage of one provider model, to be recorded. */
export interface ModelUsage extends EmbeddingUsage {
  provider: string;
  model: string;
}

/** Totals of {@link ProviderUsageService.totals}: one per day, scope and model. */
export interface ProviderUsageTotal {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  scope: UsageScope;
  provider: string;
  model: string;
  requests: number;
  failedRequests: number;
  tokens: number;
  /** The part of `tokens` that is this library's count rather than the provider's report. */
  estimatedTokens: number;
  /** USD. */
  cost: number;
}

/** Filter of {@link ProviderUsageService.totals}. */
export interface ProviderUsageQuery {
  scope?: UsageScope;
  /** First UTC day included, `YYYY-MM-DD`. */
  from?: string;
  /** Last UTC day included, `YYYY-MM-DD`. */
  to?: string;
}
