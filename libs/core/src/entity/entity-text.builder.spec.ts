import { createHash } from 'node:crypto';
import type { AiEntityConfig } from './ai-entity-config.interface';
import { buildEntityText, computeContentHash, extractMetadata } from './entity-text.builder';

const config: AiEntityConfig = {
  entityType: 'product',
  embeddableFields: [
    { name: 'name', weight: 2 },
    { name: 'description', weight: 1 },
    { name: 'category', weight: 1 },
  ],
  metadataFields: ['category', 'price', 'releasedAt'],
};

describe('buildEntityText', () => {
  it('writes one "field: value" line per embeddable field in configuration order, repeated by weight', () => {
    const text = buildEntityText({ category: 'Footwear', description: 'Waterproof shoe.', name: 'Trail Runner', price: 129.9 }, config);
    expect(text).toBe(['name: Trail Runner', 'name: Trail Runner', 'description: Waterproof shoe.', 'category: Footwear'].join('\n'));
  });

  it('repeats a line exactly `weight` times, so a heavier field weighs more', () => {
    const heavy: AiEntityConfig = { ...config, embeddableFields: [{ name: 'name', weight: 5 }, { name: 'description', weight: 1 }] };
    const lines = buildEntityText({ name: 'Lamp', description: 'Desk lamp.' }, heavy).split('\n');
    expect(lines.filter((l) => l === 'name: Lamp')).toHaveLength(5);
    expect(lines.filter((l) => l === 'description: Desk lamp.')).toHaveLength(1);
  });

  it('is deterministic: the same row gives the same text, whatever the property order or non-embeddable fields', () => {
    const a = buildEntityText({ name: 'Tent', description: 'Two-person tent.', category: 'Outdoor', price: 1 }, config);
    const b = buildEntityText({ price: 999, category: 'Outdoor', description: 'Two-person tent.', name: 'Tent', id: 'x' }, config);
    expect(a).toBe(b);
    expect(buildEntityText({ name: 'Tent', description: 'Two-person tent.', category: 'Outdoor' }, config)).toBe(a);
  });

  it('leaves out empty values and collapses whitespace, so cosmetic edits do not change the text', () => {
    expect(buildEntityText({ name: '  Lamp\n\t with   shade ', description: '', category: null }, config)).toBe(
      'name: Lamp with shade\nname: Lamp with shade',
    );
    expect(buildEntityText({ name: 'Lamp', description: '   ', category: undefined }, config)).toBe('name: Lamp\nname: Lamp');
    expect(buildEntityText({}, config)).toBe('');
  });

  it('writes dates as ISO-8601, arrays as comma lists and objects as JSON; numbers and booleans as text', () => {
    const typed: AiEntityConfig = {
      entityType: 'thing',
      embeddableFields: ['when', 'tags', 'specs', 'count', 'active', 'invalidDate'].map((name) => ({ name, weight: 1 })),
      metadataFields: [],
    };
    const text = buildEntityText(
      {
        when: new Date(Date.UTC(2024, 0, 2, 3, 4, 5)),
        tags: ['red', '', null, 'blue'],
        specs: { size: 'L' },
        count: 0,
        active: false,
        invalidDate: new Date('not a date'),
      },
      typed,
    );
    expect(text).toBe(['when: 2024-01-02T03:04:05.000Z', 'tags: red, blue', 'specs: {"size":"L"}', 'count: 0', 'active: false'].join('\n'));
  });
});

describe('computeContentHash', () => {
  const text = 'name: Lamp\nname: Lamp';

  it('is a deterministic hex SHA-256', () => {
    const hash = computeContentHash(text, 'text-embedding-3-small', 1536);
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(computeContentHash(text, 'text-embedding-3-small', 1536)).toBe(hash);
  });

  it('changes with the text, the model and the dimensions (a model or dimension change re-embeds everything)', () => {
    const base = computeContentHash(text, 'model-a', 384);
    expect(computeContentHash(`${text} `, 'model-a', 384)).not.toBe(base);
    expect(computeContentHash(text, 'model-b', 384)).not.toBe(base);
    expect(computeContentHash(text, 'model-a', 768)).not.toBe(base);
  });

  it('separates its parts, so moving characters between model and text changes the hash', () => {
    expect(computeContentHash('3 text', 'model-', 38)).not.toBe(computeContentHash('text', 'model-', 383));
    expect(computeContentHash('b', 'a', 1)).not.toBe(computeContentHash('', 'ab', 1));
  });

  it('equals the SHA-256 of model, dimensions and text joined by NUL (the documented stored format)', () => {
    const expected = createHash('sha256').update(`m\u00002\u0000${text}`).digest('hex');
    expect(computeContentHash(text, 'm', 2)).toBe(expected);
  });
});

describe('extractMetadata', () => {
  it('copies only the configured metadata fields, with dates as ISO strings and nulls kept', () => {
    expect(
      extractMetadata(
        { name: 'Lamp', category: 'Office', price: null, releasedAt: new Date(Date.UTC(2020, 5, 1)), secret: 'x' },
        config,
      ),
    ).toEqual({ category: 'Office', price: null, releasedAt: '2020-06-01T00:00:00.000Z' });
  });

  it('leaves out fields the row does not have', () => {
    expect(extractMetadata({ category: 'Office' }, config)).toEqual({ category: 'Office' });
  });
});
