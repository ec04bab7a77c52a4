import { MigrationAuditEntry } from '../audit/migration-audit-entry.entity';
import { MigrationJob } from '../job/migration-job.entity';
import { AiMigrationJobs1732100000500 } from './1732100000500-ai-migration-jobs';
import { AiMigrationAuditLog1732100000600 } from './1732100000600-ai-migration-audit-log';
import { AiMigrationJobsScanned1732100000800 } from './1732100000800-ai-migration-jobs-scanned';
import { AiMigrationGenerations1732100000950 } from './1732100000950-ai-migration-generations';
import { AiMigrationJobsUsage1732100000970 } from './1732100000970-ai-migration-jobs-usage';
import { AiMigrationJobsMode1732100000975 } from './1732100000975-ai-migration-jobs-mode';
import { MigrationVerifyFinding } from '../verify/migration-verify-finding.entity';

/** TypeORM entities of the migration module; add them to your DataSource's `entities`. */
export const AI_MIGRATION_ENTITIES = [MigrationJob, MigrationAuditEntry, MigrationVerifyFinding];

/** Versioned migrations of the migration module, after AI_CORE_MIGRATIONS in your DataSource's `migrations`. */
export const AI_MIGRATION_MIGRATIONS = [
  AiMigrationJobs1732100000500,
  AiMigrationAuditLog1732100000600,
  AiMigrationJobsScanned1732100000800,
  AiMigrationGenerations1732100000950,
  AiMigrationJobsUsage1732100000970,
  AiMigrationJobsMode1732100000975,
];
