import type { MigrationInterface, QueryRunner } from 'typeorm';

/** The sample's own table. */
export class CreateProducts1732100001000 implements MigrationInterface {
  name = 'CreateProducts1732100001000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE products (
        id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
        name varchar(200) NOT NULL,
        description text NOT NULL,
        category varchar(100) NOT NULL,
        price numeric(10, 2) NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
    await queryRunner.query(`CREATE INDEX products_category_idx ON products (category)`);
    await queryRunner.query(`CREATE INDEX products_created_at_idx ON products (created_at)`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE IF EXISTS products`);
  }
}
