import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Adds `ai_migration_jobs.scanned_entities`: the rows a job's producer has read, so that `total_entities`
 * can grow to cover rows created during the job that the producer reaches (see migration-progress.ts).
 *
 * Jobs that exist already get `enqueued_entities + skipped_entities`: an upper bound of what their
 * producer read (the skipped count includes items the workers found unchanged, which are also among the
 * enqueued ones), so their done count still never exceeds their total; completion then sets the total to
 * exactly what was covered.
 */
export class AiMigrationJobsScanned1732100000800 implements MigrationInterface {
  name = 'AiMigrationJobsScanned1732100000800';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ai_migration_jobs ADD COLUMN scanned_entities bigint NOT NULL DEFAULT 0`);
    await queryRunner.query(`UPDATE ai_migration_jobs SET scanned_entities = enqueued_entities + skipped_entities`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`ALTER TABLE ai_migration_jobs DROP COLUMN scanned_entities`);
  }
}
