import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * Index generations (docs/adr/0006-index-generations.md): every vector row belongs to a generation — one
 * complete index of one entity type in one embedding space and text definition — and a per-entity-type
 * alias row names the generation that serves search.
 *
 * Existing rows are adopted: each (entity type, model, dimensions) found becomes a generation; per entity
 * type the one with the most rows serves, the others are READY (superseded, so the retention sweep retires
 * them). Their text definition is unknown (null) and recorded at the next startup. The old HNSW index stays
 * until the serving generation's own index is built in the background (search can use it meanwhile: its
 * predicate, model and dimensions, is still in every search's WHERE clause).
 */
export class AiIndexGenerations1732100000900 implements MigrationInterface {
  name = 'AiIndexGenerations1732100000900';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE ai_index_generations (
        id int GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        entity_type varchar(100) NOT NULL,
        state varchar(10) NOT NULL,
        provider_name varchar(100) NOT NULL,
        model varchar(200) NOT NULL,
        dimensions int NOT NULL,
        text_definition jsonb,
        definition_hash char(64),
        loaded_at timestamptz,
        index_name varchar(63),
        quality_report jsonb,
        gate_passed boolean,
        validated_at timestamptz,
        failure_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        ready_at timestamptz,
        serving_since timestamptz,
        superseded_at timestamptz,
        retired_at timestamptz,
        CONSTRAINT ai_index_generations_state_ck
          CHECK (state IN ('BUILDING', 'READY', 'SERVING', 'RETIRED', 'FAILED', 'DISCARDED'))
      )`);
    await queryRunner.query(`CREATE INDEX ai_index_generations_entity_type_idx ON ai_index_generations (entity_type, state)`);
    // At most one generation being built per entity type: a second configuration change discards the first.
    await queryRunner.query(
      `CREATE UNIQUE INDEX ai_index_generations_building_uq ON ai_index_generations (entity_type) WHERE state = 'BUILDING'`,
    );
    await queryRunner.query(`
      CREATE TABLE ai_index_aliases (
        entity_type varchar(100) PRIMARY KEY,
        serving_generation_id int NOT NULL,
        previous_generation_id int,
        updated_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`ALTER TABLE ai_searchable_entities ADD COLUMN generation_id int`);
    await queryRunner.query(`
      INSERT INTO ai_index_generations (entity_type, state, provider_name, model, dimensions, ready_at, serving_since, superseded_at)
      SELECT entity_type, CASE WHEN rank = 1 THEN 'SERVING' ELSE 'READY' END, 'adopted', model, dimensions, now(),
             CASE WHEN rank = 1 THEN now() END, CASE WHEN rank = 1 THEN NULL ELSE now() END
        FROM (SELECT entity_type, model, dimensions,
                     row_number() OVER (PARTITION BY entity_type ORDER BY count(*) DESC, max(indexed_at) DESC) AS rank
                FROM ai_searchable_entities GROUP BY entity_type, model, dimensions) spaces
       ORDER BY entity_type, rank`);
    await queryRunner.query(`
      UPDATE ai_searchable_entities s SET generation_id = g.id
        FROM ai_index_generations g
       WHERE g.entity_type = s.entity_type AND g.model = s.model AND g.dimensions = s.dimensions`);
    await queryRunner.query(`
      INSERT INTO ai_index_aliases (entity_type, serving_generation_id)
      SELECT entity_type, id FROM ai_index_generations WHERE state = 'SERVING'`);
    await queryRunner.query(`ALTER TABLE ai_searchable_entities ALTER COLUMN generation_id SET NOT NULL`);
    await queryRunner.query(`ALTER TABLE ai_searchable_entities DROP CONSTRAINT ai_searchable_entities_pk`);
    await queryRunner.query(
      `ALTER TABLE ai_searchable_entities ADD CONSTRAINT ai_searchable_entities_pk PRIMARY KEY (entity_type, entity_id, generation_id)`,
    );
    await queryRunner.query(`DROP INDEX IF EXISTS ai_searchable_entities_space_idx`);
    await queryRunner.query(`CREATE INDEX ai_searchable_entities_generation_idx ON ai_searchable_entities (generation_id)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    // Back to one row per entity: the serving generation's rows are kept, the others are deleted.
    await queryRunner.query(`
      DELETE FROM ai_searchable_entities s
       WHERE NOT EXISTS (SELECT 1 FROM ai_index_aliases a WHERE a.serving_generation_id = s.generation_id)`);
    await queryRunner.query(`DROP INDEX IF EXISTS ai_searchable_entities_generation_idx`);
    await queryRunner.query(`ALTER TABLE ai_searchable_entities DROP CONSTRAINT ai_searchable_entities_pk`);
    await queryRunner.query(`ALTER TABLE ai_searchable_entities ADD CONSTRAINT ai_searchable_entities_pk PRIMARY KEY (entity_type, entity_id)`);
    await queryRunner.query(`ALTER TABLE ai_searchable_entities DROP COLUMN generation_id`);
    await queryRunner.query(
      `CREATE INDEX ai_searchable_entities_space_idx ON ai_searchable_entities (entity_type, model, dimensions)`,
    );
    const indexes: Array<{ index_name: string | null }> = await queryRunner.query(
      `SELECT index_name FROM ai_index_generations WHERE index_name IS NOT NULL`,
    );
    for (const { index_name } of indexes) await queryRunner.query(`DROP INDEX IF EXISTS "${index_name}"`);
    await queryRunner.query(`DROP TABLE ai_index_aliases`);
    await queryRunner.query(`DROP TABLE ai_index_generations`);
  }
}
