import { IndexGenerationState, type IndexGeneration } from '@ai-infrastructure/core';
import { ApiProperty } from '@nestjs/swagger';
import { GenerationQualityReportDto } from './generation-quality-report.dto';

/** One embeddable field of a generation's text definition. */
export class GenerationFieldDto {
  @ApiProperty({ description: 'Entity property whose text is embedded.', example: 'name' })
  name: string;

  @ApiProperty({ description: 'How many times the field\'s text counts in the embedded text.', example: 2 })
  weight: number;
}

/** What a generation's texts are built from. */
export class GenerationTextDefinitionDto {
  @ApiProperty({ type: [GenerationFieldDto], description: 'Embeddable fields, in order, with their weights.' })
  embeddableFields: GenerationFieldDto[];
}

/**
 * An index generation as the REST API shows it: one complete index of one entity type, its embedding space
 * (provider, model, dimensions), its text definition, its state and quality report, and when it changed.
 */
export class IndexGenerationDto {
  @ApiProperty({ description: 'Generation id (a positive integer).', example: 2 })
  id: number;

  @ApiProperty({ example: 'product' })
  entityType: string;

  @ApiProperty({
    enum: IndexGenerationState,
    example: IndexGenerationState.BUILDING,
    description:
      'BUILDING (backfill, then index build) → READY (complete, can serve) → SERVING (answers search) → READY again after a ' +
      'cutover (kept current for rollback) → RETIRED; FAILED (its provider is gone) and DISCARDED (retired before it served) are ends too.',
  })
  state: IndexGenerationState;

  @ApiProperty({ description: 'Name of the embedding provider ("hashing", "openai", …; "adopted" for vectors from before generations).', example: 'openai' })
  providerName: string;

  @ApiProperty({ example: 'text-embedding-3-small' })
  model: string;

  @ApiProperty({ example: 1536 })
  dimensions: number;

  @ApiProperty({ type: GenerationTextDefinitionDto, nullable: true, description: 'Null only for an adopted generation before its first startup.' })
  textDefinition: GenerationTextDefinitionDto | null;

  @ApiProperty({ type: String, nullable: true, description: 'Hash of model, dimensions and text definition: equal hashes index the same thing.' })
  definitionHash: string | null;

  @ApiProperty({ type: String, nullable: true, description: 'Its HNSW index on PostgreSQL (none on the embedded database).', example: 'ai_searchable_entities_hnsw_g2' })
  indexName: string | null;

  @ApiProperty({ type: GenerationQualityReportDto, nullable: true, description: 'The last quality gate\'s report (POST …/validate).' })
  qualityReport: GenerationQualityReportDto | null;

  @ApiProperty({ type: Boolean, nullable: true, description: 'Whether the last quality gate passed; null when it never ran. A cutover needs true (or force).' })
  gatePassed: boolean | null;

  @ApiProperty({ type: String, nullable: true, description: 'Why the generation FAILED.' })
  failureReason: string | null;

  @ApiProperty({ type: String, format: 'date-time' })
  createdAt: Date;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its backfill completed.' })
  loadedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it became READY (backfill and index build done).' })
  readyAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When it last started serving.' })
  servingSince: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When another generation took over serving from it (the retention period counts from here).' })
  supersededAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When the last quality gate ran.' })
  validatedAt: Date | null;

  @ApiProperty({ type: String, format: 'date-time', nullable: true, description: 'When its vectors and index were deleted (after RETIRED or DISCARDED).' })
  retiredAt: Date | null;
}

/** @internal */
export function toGenerationDto(generation: IndexGeneration): IndexGenerationDto {
  return {
    id: generation.id,
    entityType: generation.entityType,
    state: generation.state,
    providerName: generation.providerName,
    model: generation.model,
    dimensions: generation.dimensions,
    textDefinition: generation.textDefinition
      ? { embeddableFields: generation.textDefinition.embeddableFields.map((f) => ({ name: f.name, weight: f.weight })) }
      : null,
    definitionHash: generation.definitionHash === null ? null : generation.definitionHash.trim(),
    indexName: generation.indexName,
    qualityReport: generation.qualityReport,
    gatePassed: generation.gatePassed,
    failureReason: generation.failureReason,
    createdAt: generation.createdAt,
    loadedAt: generation.loadedAt,
    readyAt: generation.readyAt,
    servingSince: generation.servingSince,
    supersededAt: generation.supersededAt,
    validatedAt: generation.validatedAt,
    retiredAt: generation.retiredAt,
  };
}
