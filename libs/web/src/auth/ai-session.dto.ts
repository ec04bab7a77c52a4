import { ApiProperty } from '@nestjs/swagger';
import type { AiApiRole } from '../ai-web.options';

/** Who a bearer token is: `GET /api/ai/auth/me`. */
export class AiSessionDto {
  @ApiProperty({ description: 'The token\'s configured name (audit logs and job.createdBy show it); "anonymous" when auth is disabled.', example: 'ops-admin' })
  name: string;

  @ApiProperty({ enum: ['admin', 'viewer'], description: 'admin may change; viewer may only read.', example: 'viewer' })
  role: AiApiRole;
}
