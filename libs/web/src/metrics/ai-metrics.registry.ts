import { Injectable } from '@nestjs/common';
import { Registry } from 'prom-client';

/**
 * This application's Prometheus registry: every metric of the AI libraries is registered here, never in
 * prom-client's global default registry, so two applications in one process (tests, a worker and an API
 * in one binary) never share or double-register a metric. Applications may add their own metrics to it,
 * or merge it with theirs (`Registry.merge`).
 *
 * @example
 * ```ts
 * const text = await app.get(AiMetricsRegistry).registry.metrics();
 * ```
 */
@Injectable()
export class AiMetricsRegistry {
  /** The registry behind `GET /api/ai/monitoring/metrics`. */
  readonly registry = new Registry();
}
