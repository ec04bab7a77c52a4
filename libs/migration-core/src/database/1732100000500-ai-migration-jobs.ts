import type { MigrationInterface, QueryRunner } from 'typeorm';

/** Creates `ai_migration_jobs`, with at most one active job per entity type enforced by the database. */
export class AiMigrationJobs1732100000500 implements MigrationInterface {
  name = 'AiMigrationJobs1732100000500';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ai_migration_jobs (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        entity_type varchar(100) NOT NULL,
        status varchar(20) NOT NULL,
        total_entities bigint NOT NULL DEFAULT 0,
        processed_entities bigint NOT NULL DEFAULT 0,
        skipped_entities bigint NOT NULL DEFAULT 0,
        failed_entities bigint NOT NULL DEFAULT 0,
        enqueued_entities bigint NOT NULL DEFAULT 0,
        checkpoint varchar(255),
        producer_done boolean NOT NULL DEFAULT false,
        batch_size int NOT NULL,
        rate_limit int,
        reindex_existing boolean NOT NULL DEFAULT false,
        filter_config jsonb,
        started_at timestamptz,
        completed_at timestamptz,
        last_updated_at timestamptz NOT NULL,
        error_message text,
        created_by varchar(255),
        lease_owner varchar(255),
        lease_expires_at timestamptz,
        next_release_at timestamptz,
        version int NOT NULL DEFAULT 0
      )`);
    await queryRunner.query(`CREATE INDEX ai_migration_jobs_status_idx ON ai_migration_jobs (status)`);
    await queryRunner.query(`CREATE INDEX ai_migration_jobs_entity_type_idx ON ai_migration_jobs (entity_type)`);
    await queryRunner.query(`CREATE INDEX ai_migration_jobs_started_at_idx ON ai_migration_jobs (started_at)`);
    await queryRunner.query(
      `CREATE UNIQUE INDEX ai_migration_jobs_active_uq ON ai_migration_jobs (entity_type) WHERE status IN ('PENDING', 'RUNNING', 'PAUSED')`,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS ai_migration_jobs`);
  }
}
