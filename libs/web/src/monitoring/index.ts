export { ProviderStateDto, ProviderLimiterDto, LimiterWaitingDto, ProviderErrorDto } from './provider-state.dto';
export { QueueStatisticsDto, QueueDepthDto, DeadLetterGroupDto, LeaseOwnerDto, InstanceWorkersDto } from './queue-statistics.dto';
