import { ApiProperty } from '@nestjs/swagger';

/** Coverage of a generation against the entity table. */
export class GenerationCoverageDto {
  @ApiProperty({ description: 'Rows of the entity table.', example: 100000 })
  sourceRows: number;

  @ApiProperty({ description: 'Vectors stored in the generation.', example: 100000 })
  vectors: number;

  @ApiProperty({ description: 'Rows without a vector in the generation.', example: 0 })
  missing: number;

  @ApiProperty({ description: 'Vectors whose content hash differs from the row\'s current one.', example: 0 })
  stale: number;

  @ApiProperty({ description: 'Vectors whose row no longer exists.', example: 0 })
  orphaned: number;
}

/** Figures of one golden query. */
export class GoldenQueryResultDto {
  @ApiProperty({ example: 'waterproof hiking boots' })
  query: string;

  @ApiProperty({ type: Number, nullable: true, description: 'Share of the expected ids in the top k; null without expected ids.', example: 1 })
  recall: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Share of the serving generation\'s top k also in this one\'s; null when this one serves.', example: 0.9 })
  overlap: number | null;
}

/** The thresholds a quality gate applied. */
export class GenerationThresholdsDto {
  @ApiProperty({ example: 0.8 })
  minRecall: number;

  @ApiProperty({ example: 0 })
  minOverlap: number;

  @ApiProperty({ example: 0 })
  maxMissing: number;

  @ApiProperty({ example: 0 })
  maxStale: number;
}

/** The quality gate's report, stored with the generation (a cutover needs `passed`, or force). */
export class GenerationQualityReportDto {
  @ApiProperty({ example: 2 })
  generationId: number;

  @ApiProperty({ type: Number, nullable: true, description: 'The serving generation it was compared with; null when it serves itself.', example: 1 })
  comparedWith: number | null;

  @ApiProperty({ description: 'Hits compared per query.', example: 10 })
  k: number;

  @ApiProperty({ type: GenerationCoverageDto })
  coverage: GenerationCoverageDto;

  @ApiProperty({ type: [GoldenQueryResultDto] })
  queries: GoldenQueryResultDto[];

  @ApiProperty({ type: Number, nullable: true, description: 'Mean recall@k over the queries with expected ids; null when none has.', example: 0.95 })
  recallAtK: number | null;

  @ApiProperty({ type: Number, nullable: true, description: 'Mean overlap@k with the serving generation; null when there is nothing to compare with.', example: 0.87 })
  overlapAtK: number | null;

  @ApiProperty({ type: GenerationThresholdsDto })
  thresholds: GenerationThresholdsDto;

  @ApiProperty({ example: true })
  passed: boolean;

  @ApiProperty({ type: [String], description: 'Why the gate failed, one sentence per reason (empty when it passed).', example: [] })
  failures: string[];

  @ApiProperty({ type: String, format: 'date-time' })
  validatedAt: string;
}
