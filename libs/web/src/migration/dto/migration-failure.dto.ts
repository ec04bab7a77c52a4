import { ApiProperty } from '@nestjs/swagger';

/** An entity of a job that failed after all retries. */
export class MigrationFailureDto {
  @ApiProperty({ example: '6f1c1c52-8a3b-4b7e-9a1e-2d1f0c9b7a11' })
  entityId: string;

  @ApiProperty({ type: String, nullable: true, example: 'Embedding provider error 500: upstream unavailable' })
  error: string | null;

  @ApiProperty({ example: 5 })
  attempts: number;

  @ApiProperty({ type: String, format: 'date-time' })
  lastAttemptAt: Date;
}
