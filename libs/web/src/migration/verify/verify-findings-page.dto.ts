import { VERIFY_FINDING_KINDS, type VerifyFindingKind } from '@ai-infrastructure/migration-core';
import { ApiProperty } from '@nestjs/swagger';

/** One entity a verification found inconsistent. */
export class VerifyFindingDto {
  @ApiProperty({
    enum: VERIFY_FINDING_KINDS,
    description: 'MISSING: a row without a vector; STALE: a vector of other content; ORPHANED: a vector without a row; FOREIGN: a vector in a generation that is not maintained.',
    example: 'MISSING',
  })
  kind: VerifyFindingKind;

  @ApiProperty({ example: '6f1c1c52-8a3b-4b7e-9a1e-2d1f0c9b7a11' })
  entityId: string;

  @ApiProperty({ type: Number, nullable: true, description: 'The generation verified; for FOREIGN, the generation the vector is filed under.', example: 1 })
  generationId: number | null;
}

/** A page of a verification job's findings, by kind (MISSING, STALE, ORPHANED, FOREIGN) then entity id. */
export class VerifyFindingsPageDto {
  @ApiProperty({ description: 'Findings listed for the query\'s kind (at most 10,000 per kind; the report\'s counts are exact).', example: 300 })
  total: number;

  @ApiProperty({ example: 100 })
  limit: number;

  @ApiProperty({ example: 0 })
  offset: number;

  @ApiProperty({ type: [VerifyFindingDto] })
  items: VerifyFindingDto[];
}
