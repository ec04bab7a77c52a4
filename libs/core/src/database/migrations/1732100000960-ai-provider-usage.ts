import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider usage per UTC day, scope (live indexing, backfills, search) and model: the totals metering keeps
 * beside the per-job figures, and what a daily backfill budget is checked against.
 */
export class AiProviderUsage1732100000960 implements MigrationInterface {
  name = 'AiProviderUsage1732100000960';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ai_provider_usage (
        day date NOT NULL,
        scope varchar(10) NOT NULL,
        provider varchar(50) NOT NULL,
        model varchar(200) NOT NULL,
        requests double precision NOT NULL DEFAULT 0,
        failed_requests double precision NOT NULL DEFAULT 0,
        tokens double precision NOT NULL DEFAULT 0,
        estimated_tokens double precision NOT NULL DEFAULT 0,
        cost double precision NOT NULL DEFAULT 0,
        PRIMARY KEY (day, scope, provider, model)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ai_provider_usage`);
  }
}
