export * from './provider-usage.interface';
export { ProviderUsageService, BATCH_PRICE_FACTOR } from './provider-usage.service';
export { ProviderUsageRecord } from './provider-usage.entity';
