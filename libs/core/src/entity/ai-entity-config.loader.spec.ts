import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { loadAiEntityConfig, parseAiEntityConfig } from './ai-entity-config.loader';
import { AiEntityConfigError } from './entity-config.errors';

const FILE = '/config/ai-entity-config.yml';

/** The error `parseAiEntityConfig(yaml)` throws. */
function parseError(yaml: string): AiEntityConfigError {
  try {
    parseAiEntityConfig(yaml, FILE);
  } catch (error) {
    expect(error).toBeInstanceOf(AiEntityConfigError);
    return error as AiEntityConfigError;
  }
  throw new Error(`Expected parseAiEntityConfig to reject:\n${yaml}`);
}

describe('parseAiEntityConfig', () => {
  it('parses entity types with weighted, plain and string-shorthand fields and de-duplicated metadata fields', () => {
    const configs = parseAiEntityConfig(
      [
        'ai-entities:',
        '  product:',
        '    embeddable-fields:',
        '      - name: name',
        '        weight: 2',
        '      - name: description',
        '      - category',
        '    metadata-fields: [category, price, category]',
        '  review_v2:',
        '    embeddable-fields: [body]',
      ].join('\n'),
      FILE,
    );
    expect([...configs.keys()]).toEqual(['product', 'review_v2']);
    expect(configs.get('product')).toEqual({
      entityType: 'product',
      embeddableFields: [
        { name: 'name', weight: 2 },
        { name: 'description', weight: 1 },
        { name: 'category', weight: 1 },
      ],
      metadataFields: ['category', 'price'],
    });
    expect(configs.get('review_v2')).toEqual({ entityType: 'review_v2', embeddableFields: [{ name: 'body', weight: 1 }], metadataFields: [] });
  });

  it('parses the sample application configuration', () => {
    const file = resolve(__dirname, '../../../../apps/sample/ai-entity-config.yml');
    expect(loadAiEntityConfig(file).get('product')).toEqual({
      entityType: 'product',
      embeddableFields: [
        { name: 'name', weight: 2 },
        { name: 'description', weight: 1 },
        { name: 'category', weight: 1 },
      ],
      metadataFields: ['category', 'price'],
    });
  });

  it('accepts an empty ai-entities map', () => {
    expect(parseAiEntityConfig('ai-entities: {}\n', FILE).size).toBe(0);
  });

  it.each([
    ['invalid YAML', 'ai-entities:\n  product: [unclosed\n', /is not valid YAML/],
    ['no ai-entities key', 'entities:\n  product:\n    embeddable-fields: [name]\n', /top-level "ai-entities" map/],
    ['ai-entities is a list', 'ai-entities:\n  - product\n', /top-level "ai-entities" map/],
    ['an empty document', '', /top-level "ai-entities" map/],
  ])('rejects %s naming the file', (_case, yaml, message) => {
    const error = parseError(yaml);
    expect(error.message).toContain(FILE);
    expect(error.message).toMatch(message);
  });

  it.each([
    ['an invalid entity type name', 'Product', '    embeddable-fields: [name]\n', /entity type "Product" has an invalid name/],
    ['an entity type that is not a map', 'product', '', /entity type "product" must be a map/],
    ['an unknown key', 'product', '    embeddable-fields: [name]\n    searchable: true\n', /entity type "product" has unknown key\(s\) "searchable"/],
    ['no embeddable-fields', 'product', '    metadata-fields: [price]\n', /entity type "product" has no embeddable fields.*"embeddable-fields"/],
    ['empty embeddable-fields', 'product', '    embeddable-fields: []\n', /entity type "product" has no embeddable fields/],
    ['a field without a name', 'product', '    embeddable-fields:\n      - weight: 2\n', /entity type "product": embeddable-fields\[0\] needs a "name"/],
    ['a field that is a number', 'product', '    embeddable-fields: [42]\n', /embeddable-fields\[0\] needs a "name"/],
    ['weight 0', 'product', '    embeddable-fields:\n      - name: name\n        weight: 0\n', /embeddable field "name" has weight 0; use an integer from 1 to 10/],
    ['weight 11', 'product', '    embeddable-fields:\n      - name: name\n        weight: 11\n', /embeddable field "name" has weight 11/],
    ['weight 1.5', 'product', '    embeddable-fields:\n      - name: name\n        weight: 1.5\n', /has weight 1.5/],
    ['a string weight', 'product', '    embeddable-fields:\n      - name: name\n        weight: "2"\n', /has weight "2"/],
    ['a field listed twice', 'product', '    embeddable-fields: [name, name]\n', /embeddable field "name" is listed twice/],
    ['metadata-fields not a list', 'product', '    embeddable-fields: [name]\n    metadata-fields: price\n', /entity type "product": "metadata-fields" must be a list/],
    ['an empty metadata field', 'product', '    embeddable-fields: [name]\n    metadata-fields: [""]\n', /"metadata-fields" must be a list/],
  ])('rejects %s naming the file, the entity type and the field', (_case, entityType, body, message) => {
    const error = parseError(`ai-entities:\n  ${entityType}:\n${body}`);
    expect(error.message).toContain(FILE);
    expect(error.message).toMatch(message);
  });

  // Regression: the message used to relay yaml's text without naming the duplicated entity type.
  it('rejects an entity type declared twice (instead of silently keeping the last), naming the file and the entity type', () => {
    const error = parseError(
      'ai-entities:\n  product:\n    embeddable-fields: [name]\n  review:\n    embeddable-fields: [body]\n  product:\n    embeddable-fields: [description]\n',
    );
    expect(error.message).toContain(FILE);
    expect(error.message).toContain('declared twice');
    expect(error.message).toContain('"product"');
  });
});

describe('loadAiEntityConfig', () => {
  let dir: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'ai-entity-config-loader-'));
  });

  afterAll(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('reads a file and reports errors with its absolute path', () => {
    const file = join(dir, 'config.yml');
    writeFileSync(file, 'ai-entities:\n  product:\n    embeddable-fields: [colour]\n    unknown: 1\n');
    expect(() => loadAiEntityConfig(file)).toThrow(`${file}: entity type "product" has unknown key(s) "unknown"`);
  });

  it('names the missing file and the entityConfigPath option', () => {
    const file = join(dir, 'missing.yml');
    expect(() => loadAiEntityConfig(file)).toThrow(AiEntityConfigError);
    expect(() => loadAiEntityConfig(file)).toThrow(new RegExp(`Cannot read the AI entity configuration file ${file}.*"entityConfigPath"`));
  });
});
