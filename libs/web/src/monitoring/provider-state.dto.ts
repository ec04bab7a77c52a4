import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** Callers waiting for the rate limiter, by lane. */
export class LimiterWaitingDto {
  @ApiProperty({ description: 'Live indexing and search.', example: 0 })
  interactive: number;

  @ApiProperty({ description: 'Backfills.', example: 2 })
  bulk: number;
}

/** The provider rate limiter of the instance that answered. */
export class ProviderLimiterDto {
  @ApiProperty({ enum: ['instance', 'cluster'], description: 'instance: this process\'s own buckets; cluster: capacity leased from a bucket every instance shares.' })
  scope: string;

  @ApiProperty({ type: Number, nullable: true, description: 'Configured requests per minute (null: none).', example: 3000 })
  requestsPerMinute: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Configured tokens per minute (null: none).', example: 1000000 })
  tokensPerMinute: number | null;

  @ApiProperty({ type: LimiterWaitingDto })
  waiting: LimiterWaitingDto;

  @ApiProperty({ description: 'Seconds every request is still held back after a 429\'s Retry-After or an exhausted quota (0: not blocked).', example: 0 })
  blockedSeconds: number;
}

/** One failed provider request. */
export class ProviderErrorDto {
  @ApiProperty()
  at: Date;

  @ApiProperty({ example: 'text-embedding-3-small' })
  model: string;

  @ApiProperty({ enum: ['interactive', 'bulk'] })
  lane: string;

  @ApiProperty({ enum: ['rate_limited', 'quota_exceeded', 'timeout', 'rejected', 'transient_error', 'error'], example: 'rate_limited' })
  outcome: string;

  @ApiProperty({ description: 'Inputs the request carried.', example: 100 })
  inputs: number;

  @ApiProperty({ example: 0.84 })
  durationSeconds: number;

  @ApiPropertyOptional({ description: 'The error\'s message (at most 500 characters).' })
  error?: string;
}

/** `GET /api/ai/monitoring/provider`. */
export class ProviderStateDto {
  @ApiProperty({ example: 'openai' })
  provider: string;

  @ApiProperty({ example: 'text-embedding-3-small' })
  model: string;

  @ApiProperty({ example: 1536 })
  dimensions: number;

  @ApiProperty({ type: ProviderLimiterDto })
  limiter: ProviderLimiterDto;

  @ApiProperty({ enum: ['tokenizer', 'estimate'], description: 'How tokens are counted before sending: the model\'s tokenizer, or an estimate calibrated from reported usage.' })
  tokenCounting: string;

  @ApiProperty({ type: Number, nullable: true, description: 'Reported / counted tokens of recent requests (null until calibrated).', example: null })
  tokenRatio: number | null;

  @ApiProperty({ type: Date, nullable: true, description: 'Since when every request has failed (an outage in progress); null while requests succeed.' })
  failingSince: Date | null;

  @ApiProperty({ description: 'When this instance started counting (its start).' })
  since: Date;

  @ApiProperty({ description: 'Requests of this instance by outcome since then.', example: { success: 120, rate_limited: 2 } })
  outcomes: Record<string, number>;

  @ApiProperty({ type: [ProviderErrorDto], description: 'The last 50 failed requests of this instance, newest first.' })
  recentErrors: ProviderErrorDto[];
}
