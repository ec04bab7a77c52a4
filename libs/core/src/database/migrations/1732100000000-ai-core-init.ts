import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Creates the core tables: the vector store (`ai_searchable_entities`) and the indexing queue
 * (`ai_indexing_queue`), with the `vector` extension. The HNSW index is not created here: it depends on the
 * configured embedding space and is ensured at startup by the vector store.
 */
export class AiCoreInit1732100000000 implements MigrationInterface {
  name = 'AiCoreInit1732100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`CREATE EXTENSION IF NOT EXISTS vector`);
    await queryRunner.query(`
      CREATE TABLE ai_searchable_entities (
        entity_type varchar(100) NOT NULL,
        entity_id varchar(255) NOT NULL,
        embedding vector NOT NULL,
        content_hash char(64) NOT NULL,
        model varchar(200) NOT NULL,
        dimensions int NOT NULL,
        metadata jsonb NOT NULL,
        indexed_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ai_searchable_entities_pk PRIMARY KEY (entity_type, entity_id)
      )`);
    await queryRunner.query(
      `CREATE INDEX ai_searchable_entities_space_idx ON ai_searchable_entities (entity_type, model, dimensions)`,
    );
    await queryRunner.query(`
      CREATE TABLE ai_indexing_queue (
        id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        entity_type varchar(100) NOT NULL,
        entity_id varchar(255) NOT NULL,
        priority smallint NOT NULL DEFAULT 50,
        owner varchar(255),
        force boolean NOT NULL DEFAULT false,
        status varchar(10) NOT NULL DEFAULT 'PENDING',
        attempts int NOT NULL DEFAULT 0,
        max_retries int NOT NULL DEFAULT 5,
        run_after timestamptz NOT NULL DEFAULT now(),
        lease_token uuid,
        lease_owner varchar(255),
        lease_expires_at timestamptz,
        last_error text,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT ai_indexing_queue_status_ck CHECK (status IN ('PENDING', 'ACTIVE', 'DEAD'))
      )`);
    // One pending item per entity and owner: re-enqueueing coalesces instead of piling up work.
    await queryRunner.query(`
      CREATE UNIQUE INDEX ai_indexing_queue_pending_uq
        ON ai_indexing_queue (entity_type, entity_id, (coalesce(owner, '')))
        WHERE status = 'PENDING'`);
    await queryRunner.query(`
      CREATE INDEX ai_indexing_queue_claim_idx
        ON ai_indexing_queue (priority DESC, id) WHERE status = 'PENDING'`);
    await queryRunner.query(`
      CREATE INDEX ai_indexing_queue_lease_idx
        ON ai_indexing_queue (lease_expires_at) WHERE status = 'ACTIVE'`);
    await queryRunner.query(`
      CREATE INDEX ai_indexing_queue_owner_idx
        ON ai_indexing_queue (owner, status) WHERE owner IS NOT NULL`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS ai_indexing_queue`);
    await queryRunner.query(`DROP TABLE IF EXISTS ai_searchable_entities`);
  }
}
