import { EmbeddingRequestEvents, type EmbeddingRequestEvent, type EmbeddingRequestOutcome } from '@ai-infrastructure/core';
import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';

/** How many failed requests {@link ProviderActivity} keeps. */
export const RECENT_PROVIDER_ERRORS = 50;

/** A provider request of this instance that did not succeed. */
export interface ProviderErrorRecord extends Omit<EmbeddingRequestEvent, 'durationSeconds'> {
  at: Date;
  durationSeconds: number;
}

/**
 * @internal This instance's provider requests since it started: counts by outcome and the last
 * {@link RECENT_PROVIDER_ERRORS} failures with their messages, for `GET /api/ai/monitoring/provider`.
 * Kept in memory (the metrics carry the long-term counts).
 */
@Injectable()
export class ProviderActivity implements OnModuleInit, OnModuleDestroy {
  readonly since = new Date();
  private readonly counts = new Map<EmbeddingRequestOutcome, number>();
  private readonly errors: ProviderErrorRecord[] = [];
  private stop?: () => void;

  constructor(private readonly events: EmbeddingRequestEvents) {}

  onModuleInit(): void {
    this.stop = this.events.on((event) => {
      this.counts.set(event.outcome, (this.counts.get(event.outcome) ?? 0) + 1);
      if (event.outcome === 'success') return;
      this.errors.push({ ...event, at: new Date() });
      if (this.errors.length > RECENT_PROVIDER_ERRORS) this.errors.shift();
    });
  }

  onModuleDestroy(): void {
    this.stop?.();
  }

  /** Requests by outcome since this instance started. */
  outcomes(): Partial<Record<EmbeddingRequestOutcome, number>> {
    return Object.fromEntries(this.counts);
  }

  /** The most recent failed requests, newest first. */
  recentErrors(): ProviderErrorRecord[] {
    return [...this.errors].reverse();
  }
}
