import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Provider batches of `mode: 'batch'` backfills and the queue items each carries: what a restarted instance
 * needs to find its batches in flight again and apply their results exactly once.
 */
export class AiEmbeddingBatches1732100000990 implements MigrationInterface {
  name = 'AiEmbeddingBatches1732100000990';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ai_embedding_batches (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        status varchar(12) NOT NULL DEFAULT 'SUBMITTING'
          CONSTRAINT ai_embedding_batches_status_ck CHECK (status IN ('SUBMITTING', 'IN_FLIGHT', 'DONE', 'EXPIRED', 'CANCELLED', 'FAILED')),
        provider varchar(50) NOT NULL,
        model varchar(200) NOT NULL,
        dimensions int NOT NULL,
        lease_token uuid NOT NULL,
        owners text[] NOT NULL DEFAULT '{}',
        remote_id varchar(255),
        remote_status varchar(50),
        requests int NOT NULL,
        inputs int NOT NULL,
        estimated_tokens double precision NOT NULL DEFAULT 0,
        applied_items int NOT NULL DEFAULT 0,
        cancel_requested boolean NOT NULL DEFAULT false,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        submitted_at timestamptz,
        finished_at timestamptz,
        next_check_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(
      `CREATE INDEX ai_embedding_batches_open_idx ON ai_embedding_batches (next_check_at) WHERE status IN ('SUBMITTING', 'IN_FLIGHT')`,
    );
    await queryRunner.query(`
      CREATE TABLE ai_embedding_batch_items (
        batch_id bigint NOT NULL REFERENCES ai_embedding_batches (id) ON DELETE CASCADE,
        item_id bigint NOT NULL,
        entity_type varchar(100) NOT NULL,
        entity_id varchar(255) NOT NULL,
        version text,
        units jsonb NOT NULL,
        PRIMARY KEY (batch_id, item_id)
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ai_embedding_batch_items`);
    await queryRunner.query(`DROP TABLE ai_embedding_batches`);
  }
}
