import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AICapable, AiCoreConfigurationError, AiEntityConfigError } from '@ai-infrastructure/core';
import { AiEntityRegistry } from '@ai-infrastructure/core/internal';
import { Column, Entity, PrimaryGeneratedColumn, Repository, type ObjectLiteral } from 'typeorm';
import { bootIndexingApp } from './fixtures/indexing-app.fixture';
import { describeEachEngine } from './support/test-database';

class ReviewRepository extends Repository<ObjectLiteral> {}

/** An @AICapable entity of this test app that the YAML files below do not configure. */
@Entity('test_reviews')
@AICapable({ entityType: 'review', migrationRepository: ReviewRepository })
class Review {
  @PrimaryGeneratedColumn()
  id: number;

  @Column({ type: 'text' })
  body: string;
}

/** A second class claiming the sample's entity type. */
@Entity('test_product_copies')
@AICapable({ entityType: 'product', migrationRepository: ReviewRepository })
class ProductCopy {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;
}

/** A second view of the sample's products table, expecting a column the table does not have. */
@Entity('products')
@AICapable({ entityType: 'coloured-product', migrationRepository: ReviewRepository })
class ColouredProduct {
  @PrimaryGeneratedColumn('uuid')
  id: string;

  @Column({ type: 'text' })
  name: string;

  @Column({ type: 'text', name: 'colour_name' })
  colour: string;
}

const VALID_PRODUCT = `
  product:
    embeddable-fields:
      - name: name
        weight: 2
      - description
    metadata-fields: [category, price]
`;

describeEachEngine('Entity configuration checks at startup', ({ getUrl }) => {
  let dir: string;
  let counter = 0;

  /** Writes `yaml` to a fresh temporary file and returns its absolute path. */
  const configFile = (yaml: string) => {
    const file = join(dir, `ai-entity-config-${++counter}.yml`);
    writeFileSync(file, yaml);
    return file;
  };

  /** Boots an app on `file` and returns the startup error (failing the test if it starts). */
  const startupError = async (file: string, extraEntities: Function[] = []): Promise<Error> => {
    let app: Awaited<ReturnType<typeof bootIndexingApp>> | undefined;
    try {
      app = await bootIndexingApp({
        databaseUrl: getUrl(),
        extraEntities,
        core: { entityConfigPath: file, worker: { enabled: false }, liveIndexing: false },
        logger: false,
      });
    } catch (error) {
      return error as Error;
    } finally {
      await app?.close();
    }
    throw new Error(`The app started with ${file}, but it should have refused to.`);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ai-entity-config-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('starts with a valid configuration (control)', async () => {
    const file = configFile(`ai-entities:${VALID_PRODUCT}`);
    const ctx = await bootIndexingApp({
      databaseUrl: getUrl(),
      core: { entityConfigPath: file, worker: { enabled: false }, liveIndexing: false },
    });
    try {
      const descriptor = ctx.app.get(AiEntityRegistry).find('product')!;
      expect(descriptor.config).toEqual({
        entityType: 'product',
        embeddableFields: [
          { name: 'name', weight: 2 },
          { name: 'description', weight: 1 },
        ],
        metadataFields: ['category', 'price'],
      });
      expect(ctx.app.get(AiEntityRegistry).entityTypes()).toEqual(['product']);
    } finally {
      await ctx.close();
    }
  });

  it('rejects an embeddable field that is not a column, naming file, entity type and field', async () => {
    const file = configFile(`ai-entities:\n  product:\n    embeddable-fields: [name, colour]\n`);
    const error = await startupError(file);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('entity type "product"');
    expect(error.message).toContain('embeddable field "colour"');
    expect(error.message).toContain('Known columns: id, name, description, category, price, createdAt');
  });

  it('rejects a metadata field that is not a column, naming file, entity type and field', async () => {
    const file = configFile(`ai-entities:\n  product:\n    embeddable-fields: [name]\n    metadata-fields: [weight]\n`);
    const error = await startupError(file);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('entity type "product"');
    expect(error.message).toContain('metadata field "weight"');
  });

  it.each([
    ['an empty list', '    embeddable-fields: []\n'],
    ['no list at all', '    metadata-fields: [category]\n'],
  ])('rejects an entity type with no embeddable fields (%s), naming file, entity type and the key', async (_case, body) => {
    const file = configFile(`ai-entities:\n  product:\n${body}`);
    const error = await startupError(file);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('entity type "product"');
    expect(error.message).toContain('"embeddable-fields"');
  });

  // Regression: the duplicate-key message used to relay yaml's text without the entity type.
  it('rejects an entity type declared twice in the YAML, naming file and entity type', async () => {
    const file = configFile(`ai-entities:${VALID_PRODUCT}${VALID_PRODUCT}`);
    const error = await startupError(file);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('declared twice');
    expect(error.message).toContain('"product"');
  });

  it('rejects a configured entity type without an @AICapable entity, naming file and entity type', async () => {
    const file = configFile(`ai-entities:${VALID_PRODUCT}  order:\n    embeddable-fields: [summary]\n`);
    const error = await startupError(file);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('entity type "order" has no @AICapable entity');
  });

  it('rejects an @AICapable entity without configuration, naming file, entity type and class', async () => {
    const file = configFile(`ai-entities:${VALID_PRODUCT}`);
    const error = await startupError(file, [Review]);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('@AICapable class Review declares entity type "review"');
    expect(error.message).toContain('"ai-entities.review"');
  });

  it('rejects two @AICapable classes with the same entity type, naming both classes', async () => {
    const file = configFile(`ai-entities:${VALID_PRODUCT}`);
    const error = await startupError(file, [ProductCopy]);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain('"product"');
    expect(error.message).toContain('Product and ProductCopy');
  });

  it('rejects a missing configuration file, naming the path and the option', async () => {
    const file = join(dir, 'does-not-exist.yml');
    const error = await startupError(file);
    expect(error).toBeInstanceOf(AiEntityConfigError);
    expect(error.message).toContain(file);
    expect(error.message).toContain('"entityConfigPath"');
  });

  it('rejects an @AICapable entity whose table does not exist, naming the table, the class and the fix', async () => {
    // No migration creates test_reviews: a first adopter's "...yourMigrations" left out.
    const file = configFile(`ai-entities:${VALID_PRODUCT}  review:\n    embeddable-fields: [body]\n`);
    const error = await startupError(file, [Review]);
    expect(error).toBeInstanceOf(AiCoreConfigurationError);
    expect(error.message).toContain('the table "test_reviews" of @AICapable class Review (entity type "review") does not exist');
    expect(error.message).toContain("migration listed in your DataSource's migrations");
  });

  it('rejects an @AICapable entity whose table lacks a configured column, naming the column by its database name', async () => {
    const file = configFile(`ai-entities:${VALID_PRODUCT}  coloured-product:\n    embeddable-fields: [name, colour]\n`);
    const error = await startupError(file, [ColouredProduct]);
    expect(error).toBeInstanceOf(AiCoreConfigurationError);
    expect(error.message).toContain('the table "products" of @AICapable class ColouredProduct (entity type "coloured-product") has no column "colour_name"');
  });
});
