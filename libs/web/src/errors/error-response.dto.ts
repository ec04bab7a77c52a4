import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';

/** One invalid field of a request. */
export class FieldErrorDto {
  @ApiProperty({ description: 'Path of the field in the body, query or path ("filters.ids[2]" for nested values).', example: 'batchSize' })
  field: string;

  @ApiProperty({ description: 'The rule that failed (class-validator constraint name).', example: 'max' })
  rule: string;

  @ApiProperty({ description: 'What is wrong and what is allowed.', example: 'batchSize must not be greater than 5000' })
  message: string;
}

/** The body of every error answer of the AI endpoints. */
export class ErrorResponseDto {
  @ApiProperty({ description: 'HTTP status code.', example: 400 })
  statusCode: number;

  @ApiProperty({ description: 'HTTP reason phrase.', example: 'Bad Request' })
  error: string;

  @ApiProperty({ description: 'What went wrong and what to do, as a sentence.', example: 'Invalid request: batchSize must not be greater than 5000.' })
  message: string;

  @ApiPropertyOptional({ description: 'The invalid fields (validation errors only).', type: [FieldErrorDto] })
  details?: FieldErrorDto[];

  @ApiPropertyOptional({ description: 'The job\'s current status (409 on an invalid state transition).', example: 'COMPLETED' })
  currentStatus?: string;

  @ApiPropertyOptional({ description: 'The active job(s) in the way (409 when starting).', example: ['3f0e4c4e-6a55-4a40-9a5b-1f6f1f7c2f10'], type: [String] })
  activeJobIds?: string[];

  @ApiPropertyOptional({ type: Object, nullable: true, description: 'The stored quality report (409 on a cutover refused by the quality gate; null when it never ran).' })
  report?: unknown;

  @ApiPropertyOptional({ description: 'The configured entity types (400 on an unknown entity type).', example: ['product'], type: [String] })
  knownEntityTypes?: string[];
}
