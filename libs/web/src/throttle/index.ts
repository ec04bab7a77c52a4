export { AiThrottlerGuard } from './ai-throttler.guard';
