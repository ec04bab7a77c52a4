import { ApiProperty } from '@nestjs/swagger';

/** Items of one priority and state. */
export class QueueDepthDto {
  @ApiProperty({ description: 'Priority name (high: live, normal, low: backfills, batch) or the number for a custom one.', example: 'low' })
  priority: string;

  @ApiProperty({ enum: ['pending', 'delayed', 'active', 'dead'], description: 'pending: runnable now; delayed: waiting for a retry; active: claimed; dead: dead-lettered.', example: 'pending' })
  state: string;

  @ApiProperty({ example: 1200 })
  items: number;

  @ApiProperty({ description: 'Seconds since the oldest of these items was enqueued.', example: 42.5 })
  oldestAgeSeconds: number;
}

/** Dead-lettered items of one reason. */
export class DeadLetterGroupDto {
  @ApiProperty({
    enum: ['auth', 'rejected-input', 'no-text', 'rate-limited', 'quota', 'provider-error', 'lease-expired', 'other'],
    description: 'Why they died, from their last error.',
    example: 'rejected-input',
  })
  reason: string;

  @ApiProperty({ example: 3 })
  items: number;

  @ApiProperty({ description: 'When the most recent of them died.' })
  lastAt: Date;

  @ApiProperty({ type: String, nullable: true, description: 'The last error of the most recent one.' })
  lastError: string | null;
}

/** Claimed items of one worker process. */
export class LeaseOwnerDto {
  @ApiProperty({ description: 'The worker process (host:pid:random), as in IndexingWorkerService.workerId.', example: 'web-7f9c:1:3b1e0a2c' })
  owner: string;

  @ApiProperty({ example: 40 })
  items: number;

  @ApiProperty({ description: 'Seconds until its first lease expires; negative when one already has (the lease sweep returns such items).', example: 58.2 })
  nextExpirySeconds: number;

  @ApiProperty({ description: 'Leases already expired, waiting for the sweep.', example: 0 })
  expired: number;
}

/** The workers of the instance that answered. */
export class InstanceWorkersDto {
  @ApiProperty({ description: 'Its lease-owner id.', example: 'web-7f9c:1:3b1e0a2c' })
  workerId: string;

  @ApiProperty({ description: 'Whether its worker loops run (AiCoreModule worker.enabled).' })
  running: boolean;

  @ApiProperty({ description: 'Worker loops (worker.concurrency).', example: 2 })
  loops: number;

  @ApiProperty({ description: 'Loops reserved for live items (worker.liveConcurrency).', example: 1 })
  liveLoops: number;
}

/** `GET /api/ai/monitoring/queue`. */
export class QueueStatisticsDto {
  @ApiProperty({ type: [QueueDepthDto], description: 'Items by priority and state (only combinations that have items), from the database.' })
  depth: QueueDepthDto[];

  @ApiProperty({ type: Number, nullable: true, description: 'Seconds the oldest runnable item has waited (null when none).', example: 3.2 })
  oldestPendingAgeSeconds: number | null;

  @ApiProperty({ type: [DeadLetterGroupDto], description: 'Dead-lettered items by reason, most first.' })
  deadLetters: DeadLetterGroupDto[];

  @ApiProperty({ type: [LeaseOwnerDto], description: 'Claimed items per worker process (every instance), from the database.' })
  leases: LeaseOwnerDto[];

  @ApiProperty({ type: InstanceWorkersDto, description: 'The workers of the instance that answered this request.' })
  instance: InstanceWorkersDto;
}
