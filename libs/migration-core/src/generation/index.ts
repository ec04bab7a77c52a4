export { MigrationGenerationService, type GenerationValidationRequest } from './migration-generation.service';
