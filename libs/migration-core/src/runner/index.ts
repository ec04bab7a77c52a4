export type { MigrationPageEvent } from './migration-page-event.interface';
export { MigrationRunnerService, pauseReason } from './migration-runner.service';
