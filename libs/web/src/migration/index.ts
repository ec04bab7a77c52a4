export * from './dto';
export { MigrationController } from './migration.controller';
