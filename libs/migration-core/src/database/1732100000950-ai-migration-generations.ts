import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Jobs target an index generation (`generation_id`), and a job is a backfill or a verification (`kind`),
 * which counts what it found (`missing_entities`, … ) and lists it, capped, in
 * `ai_migration_verify_findings`. Audit entries may be about a generation instead of a job
 * (cutover, rollback, retire, validate), so `job_id` becomes optional and `generation_id` is added.
 *
 * Existing jobs keep a null generation: they ran before generations, against the one index there was.
 */
export class AiMigrationGenerations1732100000950 implements MigrationInterface {
  name = 'AiMigrationGenerations1732100000950';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ai_migration_jobs
        ADD COLUMN generation_id int,
        ADD COLUMN kind varchar(10) NOT NULL DEFAULT 'BACKFILL',
        ADD COLUMN verify_fix boolean NOT NULL DEFAULT false,
        ADD COLUMN vector_checkpoint varchar(255),
        ADD COLUMN missing_entities bigint NOT NULL DEFAULT 0,
        ADD COLUMN stale_entities bigint NOT NULL DEFAULT 0,
        ADD COLUMN orphaned_entities bigint NOT NULL DEFAULT 0,
        ADD COLUMN foreign_entities bigint NOT NULL DEFAULT 0,
        ADD CONSTRAINT ai_migration_jobs_kind_ck CHECK (kind IN ('BACKFILL', 'VERIFY'))`);
    await queryRunner.query(`CREATE INDEX ai_migration_jobs_generation_idx ON ai_migration_jobs (generation_id)`);
    await queryRunner.query(`ALTER TABLE ai_migration_audit_log ALTER COLUMN job_id DROP NOT NULL, ADD COLUMN generation_id int`);
    await queryRunner.query(`CREATE INDEX ai_migration_audit_log_generation_idx ON ai_migration_audit_log (generation_id, id)`);
    await queryRunner.query(`
      CREATE TABLE ai_migration_verify_findings (
        job_id uuid NOT NULL,
        kind varchar(10) NOT NULL,
        entity_id varchar(255) NOT NULL,
        generation_id int,
        CONSTRAINT ai_migration_verify_findings_pk PRIMARY KEY (job_id, kind, entity_id),
        CONSTRAINT ai_migration_verify_findings_kind_ck CHECK (kind IN ('MISSING', 'STALE', 'ORPHANED', 'FOREIGN'))
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ai_migration_verify_findings`);
    await queryRunner.query(`DROP INDEX ai_migration_audit_log_generation_idx`);
    // Entries about generations have no job; the append-only trigger is lifted for their removal only.
    await queryRunner.query(`ALTER TABLE ai_migration_audit_log DISABLE TRIGGER ai_migration_audit_log_append_only`);
    await queryRunner.query(`DELETE FROM ai_migration_audit_log WHERE job_id IS NULL`);
    await queryRunner.query(`ALTER TABLE ai_migration_audit_log ENABLE TRIGGER ai_migration_audit_log_append_only`);
    await queryRunner.query(`ALTER TABLE ai_migration_audit_log DROP COLUMN generation_id, ALTER COLUMN job_id SET NOT NULL`);
    await queryRunner.query(`DROP INDEX ai_migration_jobs_generation_idx`);
    await queryRunner.query(`
      ALTER TABLE ai_migration_jobs DROP CONSTRAINT ai_migration_jobs_kind_ck,
        DROP COLUMN generation_id, DROP COLUMN kind, DROP COLUMN verify_fix, DROP COLUMN vector_checkpoint,
        DROP COLUMN missing_entities, DROP COLUMN stale_entities, DROP COLUMN orphaned_entities, DROP COLUMN foreign_entities`);
  }
}
