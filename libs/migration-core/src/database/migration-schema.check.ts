import { AI_DATA_SOURCE } from '@ai-infrastructure/core/internal';
import { Inject, Injectable, type OnModuleInit } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { MigrationOptionsError } from '../migration.errors';
import { AI_MIGRATION_ENTITIES } from './migration-schema';

/**
 * Checks at startup that the application's DataSource lists the migration module's entities and that its
 * migrations ran (its tables, with the latest migration's column). Without it the app reported that it
 * started, then its runner logged `relation "ai_migration_jobs" does not exist` twice a second with no
 * remedy. Runs before the runner's first round (module init precedes application bootstrap).
 * @internal
 */
@Injectable()
export class MigrationSchemaCheck implements OnModuleInit {
  constructor(@Inject(AI_DATA_SOURCE) private readonly dataSource: DataSource) {}

  async onModuleInit(): Promise<void> {
    const unlisted = AI_MIGRATION_ENTITIES.filter((entity) => !this.dataSource.hasMetadata(entity)).map((entity) => entity.name);
    if (unlisted.length > 0) {
      throw new MigrationOptionsError(
        `MigrationModule's entities (${unlisted.join(', ')}) are not in your DataSource's entities. Add AI_MIGRATION_ENTITIES ` +
          `from @ai-infrastructure/migration-core to them: entities: [YourEntity, ...AI_CORE_ENTITIES, ...AI_MIGRATION_ENTITIES].`,
      );
    }
    const [row] = await this.dataSource.query(
      `SELECT to_regclass('ai_migration_jobs') IS NOT NULL AND to_regclass('ai_migration_audit_log') IS NOT NULL
              AND to_regclass('ai_migration_verify_findings') IS NOT NULL
              AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('ai_migration_jobs') AND attname = 'pause_reason' AND NOT attisdropped)
              AS ready`,
    );
    if (!row?.ready) {
      throw new MigrationOptionsError(
        'The migration module\'s tables (ai_migration_jobs, ai_migration_audit_log, ai_migration_verify_findings) do not exist in this database or are not up to date. ' +
          "Add AI_MIGRATION_MIGRATIONS after AI_CORE_MIGRATIONS to your DataSource's migrations and run them " +
          '(migrationsRun: true, or your migration command, e.g. npm run db:migrate).',
      );
    }
  }
}
