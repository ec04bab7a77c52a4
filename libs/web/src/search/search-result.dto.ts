import { ApiProperty } from '@nestjs/swagger';

/** One hit of a semantic search. */
export class SearchHitDto {
  @ApiProperty({ example: '6f1c2a7e-3b1d-4c55-9a0e-2f4b8d9c1e77' })
  entityId: string;

  @ApiProperty({ description: 'Cosine similarity (1 = same direction).', example: 0.83 })
  score: number;

  @ApiProperty({ example: { category: 'Footwear', price: 129.9 } })
  metadata: Record<string, unknown>;
}

/** Response of `GET /api/ai/search`. */
export class SearchResponseDto {
  @ApiProperty({ example: 'product' })
  entityType: string;

  @ApiProperty({ type: [SearchHitDto] })
  results: SearchHitDto[];
}
