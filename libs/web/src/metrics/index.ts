export { AiMetricsRegistry } from './ai-metrics.registry';
