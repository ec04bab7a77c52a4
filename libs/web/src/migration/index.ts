/**
 * `@ai-infrastructure/web/migration` — the request and response DTOs of `/api/ai/migration` and its
 * controller, for applications that document, test or extend those endpoints. A separate entry point
 * because they import `@ai-infrastructure/migration-core`, an optional peer: `@ai-infrastructure/web`
 * itself never requires it.
 */
import { loadPackage, MIGRATION_CORE_PACKAGE } from '../utils/load-package.util';

// Runs before the re-exports below are required, so a missing peer is reported by name and reason
// instead of as a bare "Cannot find module" from inside a DTO file.
loadPackage(MIGRATION_CORE_PACKAGE, 'the @ai-infrastructure/web/migration entry point (migration DTOs, MigrationController and MigrationGenerationsController)');

export * from './dto';
export * from './generations';
export { MigrationController } from './migration.controller';
export * from './verify';
export * from './audit';
