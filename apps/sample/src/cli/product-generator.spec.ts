import {
  CREATED_AT_SPAN_MS,
  generateProduct,
  generateProducts,
  MAX_SEED_OR_INDEX,
  PRODUCT_CATEGORIES,
  REFERENCE_DATE,
} from './product-generator';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('product generator', () => {
  // Shared by the property checks below: 10,000 products is enough to hit every category and template.
  const sample = [...generateProducts(42, 0, 10_000)];

  it('gives the same product for the same seed and index, on every call', () => {
    expect(generateProduct(42, 1234)).toEqual(generateProduct(42, 1234));
    expect(generateProduct(7, 0)).toEqual(generateProduct(7, 0));
    expect(sample[1234]).toEqual(generateProduct(42, 1234));
  });

  it('pins the output, so that an accidental change to the dataset a seed produces is noticed', () => {
    // Update these deliberately only: seeded databases and benchmark baselines depend on them.
    expect(generateProduct(42, 0)).toEqual({
      id: '916bdba1-849a-49e9-a069-ca5a0914a4b4',
      name: 'Forge & Fern Professional Reinforced PVC Garden Hose',
      description:
        'Heavy-duty and made with reinforced PVC, this garden hose is a favourite for hanging baskets. ' +
        'Highlights include brass quick-connect fittings and a 10-pattern spray nozzle. Available in navy and slate grey.',
      category: 'Garden & Tools',
      price: 47,
      createdAt: new Date('2025-10-02T16:52:38.000Z'),
    });
    expect(generateProduct(42, 1).id).toBe('7c202dc2-c4f8-4a57-a904-9f48b9581fba');
  });

  it('gives different products for different indices and for different seeds', () => {
    for (let index = 0; index < 100; index++) {
      const a = sample[index];
      const b = sample[index + 1];
      expect(a.id).not.toBe(b.id);
      expect(`${a.name}|${a.description}`).not.toBe(`${b.name}|${b.description}`);
    }
    expect(generateProduct(1, 5).id).not.toBe(generateProduct(2, 5).id);
    expect(generateProduct(1, 5)).not.toEqual(generateProduct(2, 5));
  });

  it('agrees between generateProducts ranges and generateProduct', () => {
    const middle = [...generateProducts(42, 5000, 3)];
    expect(middle).toEqual(sample.slice(5000, 5003));
    expect([...generateProducts(42, 10, 0)]).toEqual([]);
  });

  it('gives valid version-4 uuids, unique over 10,000 products', () => {
    expect(sample.filter((p) => !UUID_V4.test(p.id))).toEqual([]);
    expect(new Set(sample.map((p) => p.id)).size).toBe(sample.length);
  });

  it('keeps ids unique between seeds too', () => {
    const otherSeed = [...generateProducts(43, 0, 10_000)].map((p) => p.id);
    const ids = new Set(sample.map((p) => p.id));
    expect(otherSeed.filter((id) => ids.has(id))).toEqual([]);
  });

  it("keeps every field within the products table's column limits", () => {
    // One assertion per property over all products: expect() per product would make this take seconds.
    expect(sample.filter((p) => p.name.length === 0 || p.name.length > 200)).toEqual([]);
    expect(sample.filter((p) => p.category.length === 0 || p.category.length > 100)).toEqual([]);
    expect(sample.filter((p) => p.description.length === 0)).toEqual([]);
    expect(sample.filter((p) => !(p.price >= 0 && p.price <= 99_999_999.99))).toEqual([]);
    // Two decimals at most: the value survives a round trip through numeric(10, 2) unchanged.
    expect(sample.filter((p) => Number(p.price.toFixed(2)) !== p.price)).toEqual([]);
  });

  it('spreads products over the categories and creation dates over about three years, all in the past', () => {
    const perCategory = new Map<string, number>();
    for (const product of sample) perCategory.set(product.category, (perCategory.get(product.category) ?? 0) + 1);
    expect([...perCategory.keys()].sort()).toEqual([...PRODUCT_CATEGORIES].sort());
    expect(PRODUCT_CATEGORIES.length).toBeGreaterThanOrEqual(12);
    // Uniform would be ~833 each; anything below 600 means the category choice is skewed.
    for (const count of perCategory.values()) expect(count).toBeGreaterThan(600);

    const times = sample.map((p) => p.createdAt.getTime());
    const oldest = Math.min(...times);
    const newest = Math.max(...times);
    expect(newest).toBeLessThanOrEqual(REFERENCE_DATE.getTime());
    expect(oldest).toBeGreaterThanOrEqual(REFERENCE_DATE.getTime() - CREATED_AT_SPAN_MS);
    expect(newest - oldest).toBeGreaterThan(CREATED_AT_SPAN_MS * 0.95);
    expect(times.filter((time) => time % 1000 !== 0)).toEqual([]);
  });

  it('writes one to three sentences and names that never repeat a word', () => {
    const sentenceCounts = new Set(sample.map((p) => p.description.split(/(?<=\.)\s+(?=[A-Z0-9])/).length));
    expect([...sentenceCounts].sort()).toEqual([1, 2, 3]);
    expect(sample.filter((p) => !/^[A-Z0-9].*\.$/.test(p.description))).toEqual([]);

    const repeatsAWord = (name: string) => {
      const words = name.toLowerCase().split(/[\s-]+/);
      return new Set(words).size !== words.length;
    };
    expect(sample.map((p) => p.name).filter(repeatsAWord)).toEqual([]);
  });

  it('describes products in words that match what they are, so that search results make sense', () => {
    const boots = sample.filter((p) => /hiking boots/i.test(p.name));
    expect(boots.length).toBeGreaterThan(0);
    for (const product of boots) expect(product.category).toBe('Footwear');
    expect(boots.some((p) => /waterproof/i.test(`${p.name} ${p.description}`))).toBe(true);
    // Features are chosen per item: a hose never gets a battery.
    for (const product of sample.filter((p) => /garden hose/i.test(p.name))) expect(product.description).not.toMatch(/batter/i);
  });

  it('rejects seeds and indices that are not unsigned 32-bit integers, naming the argument', () => {
    expect(() => generateProduct(-1, 0)).toThrow(/seed must be an integer from 0 to 4294967295, but it is -1/);
    expect(() => generateProduct(1.5, 0)).toThrow(/seed/);
    expect(() => generateProduct(0, MAX_SEED_OR_INDEX + 1)).toThrow(/index/);
    expect(() => generateProducts(0, 0, -1).next()).toThrow(/count must be a non-negative integer/);
    expect(() => generateProducts(0, MAX_SEED_OR_INDEX, 2).next()).toThrow(/start \+ count - 1/);
  });
});
