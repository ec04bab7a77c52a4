import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates the append-only `ai_migration_audit_log`. A trigger rejects UPDATE and DELETE (TRUNCATE by the
 * table owner stays possible, for deliberate retention work), so an application bug cannot rewrite history.
 */
export class AiMigrationAuditLog1732100000600 implements MigrationInterface {
  name = 'AiMigrationAuditLog1732100000600';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ai_migration_audit_log (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        job_id uuid NOT NULL,
        action varchar(30) NOT NULL,
        actor varchar(255) NOT NULL,
        from_status varchar(20),
        to_status varchar(20) NOT NULL,
        details jsonb,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX ai_migration_audit_log_job_idx ON ai_migration_audit_log (job_id, id)`);
    await queryRunner.query(`
      CREATE FUNCTION ai_migration_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN
        RAISE EXCEPTION 'ai_migration_audit_log is append-only: % is not allowed', TG_OP;
      END $$`);
    await queryRunner.query(`
      CREATE TRIGGER ai_migration_audit_log_append_only BEFORE UPDATE OR DELETE ON ai_migration_audit_log
      FOR EACH ROW EXECUTE FUNCTION ai_migration_audit_log_append_only()`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS ai_migration_audit_log`);
    await queryRunner.query(`DROP FUNCTION IF EXISTS ai_migration_audit_log_append_only()`);
  }
}
