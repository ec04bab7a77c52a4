import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Metering and budgets of jobs: the provider usage of their items (requests, tokens, the part of them that is
 * estimated, cost), counted in the workers' transactions; optional budgets (`max_tokens`, `max_cost`); and
 * why a paused job is paused (`pause_reason`: OPERATOR, QUOTA_EXHAUSTED, PROVIDER_UNAVAILABLE,
 * BUDGET_EXCEEDED), so an operator and a client can tell a budget stop from a manual one; and the recent
 * rate of the job (`rate_done`, a count of finished entities decaying with a 2-minute time constant, as of
 * `rate_at`, measured since `rate_since`), from which its ETA follows the limit that binds now.
 */
export class AiMigrationJobsUsage1732100000970 implements MigrationInterface {
  name = 'AiMigrationJobsUsage1732100000970';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ai_migration_jobs
        ADD COLUMN provider_requests double precision NOT NULL DEFAULT 0,
        ADD COLUMN failed_requests double precision NOT NULL DEFAULT 0,
        ADD COLUMN tokens_used double precision NOT NULL DEFAULT 0,
        ADD COLUMN estimated_tokens double precision NOT NULL DEFAULT 0,
        ADD COLUMN cost_used double precision NOT NULL DEFAULT 0,
        ADD COLUMN max_tokens bigint,
        ADD COLUMN max_cost double precision,
        ADD COLUMN pause_reason varchar(30),
        ADD COLUMN rate_done double precision NOT NULL DEFAULT 0,
        ADD COLUMN rate_at timestamptz,
        ADD COLUMN rate_since timestamptz`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      ALTER TABLE ai_migration_jobs
        DROP COLUMN provider_requests, DROP COLUMN failed_requests, DROP COLUMN tokens_used, DROP COLUMN estimated_tokens,
        DROP COLUMN cost_used, DROP COLUMN max_tokens, DROP COLUMN max_cost, DROP COLUMN pause_reason,
        DROP COLUMN rate_done, DROP COLUMN rate_at, DROP COLUMN rate_since`);
  }
}
