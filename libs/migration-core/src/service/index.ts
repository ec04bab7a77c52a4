export { DataMigrationService } from './data-migration.service';
export { isoDuration, toProgress } from './migration-progress';
