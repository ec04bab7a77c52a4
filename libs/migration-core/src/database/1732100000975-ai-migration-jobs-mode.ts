import type { MigrationInterface, QueryRunner } from 'typeorm';

/** How a job's texts reach the provider: `sync` (embeddings requests) or `batch` (the provider's Batch API). */
export class AiMigrationJobsMode1732100000975 implements MigrationInterface {
  name = 'AiMigrationJobsMode1732100000975';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ai_migration_jobs ADD COLUMN mode varchar(10) NOT NULL DEFAULT 'sync'`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ai_migration_jobs DROP COLUMN mode`);
  }
}
