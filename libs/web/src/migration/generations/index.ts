/** The index-generation endpoints (`/api/ai/migration/generations`): controller, request and response DTOs. */
export { BuildGenerationDto, BuildGenerationResultDto } from './build-generation.dto';
export { GenerationCoverageDto, GenerationQualityReportDto, GenerationThresholdsDto, GoldenQueryResultDto } from './generation-quality-report.dto';
export { GenerationFieldDto, GenerationTextDefinitionDto, IndexGenerationDto } from './index-generation.dto';
export { ListGenerationsQueryDto } from './list-generations.query.dto';
export { MigrationGenerationsController } from './migration-generations.controller';
export { GenerationIdParam, parseGenerationId } from './generation-id.param';
export { CutoverGenerationDto, GenerationSwitchDto, RollbackGenerationDto } from './switch-generation.dto';
export { GoldenQueryDto, ValidateGenerationDto } from './validate-generation.dto';
