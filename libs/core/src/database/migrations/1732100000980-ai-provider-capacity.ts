import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The shared token buckets of `rateLimit.scope: 'cluster'`: one row per provider, model and API key
 * fingerprint, holding the requests and tokens every instance together may still send, and a
 * `blocked_until` that a 429 seen by one instance sets for all (docs/adr/0008-shared-provider-limits.md).
 */
export class AiProviderCapacity1732100000980 implements MigrationInterface {
  name = 'AiProviderCapacity1732100000980';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ai_provider_capacity (
        provider varchar(50) NOT NULL,
        model varchar(200) NOT NULL,
        account varchar(64) NOT NULL,
        requests_per_minute double precision NOT NULL,
        tokens_per_minute double precision NOT NULL,
        requests double precision NOT NULL,
        tokens double precision NOT NULL,
        refilled_at timestamptz NOT NULL,
        blocked_until timestamptz,
        updated_at timestamptz NOT NULL,
        PRIMARY KEY (provider, model, account)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ai_provider_capacity`);
  }
}
