/**
 * The PostgreSQL engine's ranking on a catalog larger than its popularity bucket: pages answered
 * from the bucket and pages that rank every match must both follow the same order (name matches,
 * then tag matches, then the rest; most popular first within each), so paging never repeats or
 * skips a product. The order is checked against one computed here from the documents.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { PG_EXACT_TOTAL_CAP, PostgresSearchEngine } from './postgres.search-engine.ts';
import type { SearchDocument } from './search-engine.ts';

const category = randomUUID();
let seq = 0;
const doc = (name: string, tags: string[], description: string, popularity: number): SearchDocument => ({
  productId: randomUUID(),
  name: `${name} ${++seq}`,
  description,
  tags,
  categoryId: category,
  categoryPath: [category],
  price: 1000 + (seq % 50) * 100,
  popularity,
  updatedAt: '2026-11-01T12:00:00.000Z',
  variants: [],
});

// 3,000 products: "camiseta" in the name of every 10th, as a tag of every 7th, in the description
// of every 3rd (1,458 matches: more than are counted exactly, so its first pages are walked to in
// popularity order); "lanterna" in the names of 33 of the least popular, and in the descriptions
// of half (so the walk finds page 1 and falls short of page 2); "caneca" in 2,500 names.
const DOCS: SearchDocument[] = Array.from({ length: 3000 }, (_, i) => {
  const lantern = i > 2900 && i % 3 === 0;
  const popularity = lantern ? (i - 2900) / 1000 : (i * 7919) % 3001;
  const name = i % 10 === 0 ? 'Camiseta Lisa' : lantern ? 'Lanterna Tática' : 'Caneca Simples';
  const tags = i % 7 === 0 ? ['camiseta'] : [];
  const description = `Produto${i % 3 === 0 ? ' que combina com camiseta' : ''}${i % 2 === 0 ? ' e lanterna' : ''}.`;
  return doc(name, tags, description, popularity);
});

// Four products in five are sold in a blue M and a black G, at their price: enough blue camisetas
// (over the exact-count cap) that an option filter's first pages are walked to as well.
DOCS.forEach((d, i) => {
  if (i % 5)
    d.variants = [
      { price: d.price, options: { Cor: 'Azul', Tamanho: 'M' } },
      { price: d.price, options: { Cor: 'Preto', Tamanho: 'G' } },
    ];
});

/** The expected order: tier (name, then tags, then description), popularity, id. */
function expected(word: string, minPrice = 0): string[] {
  const tier = (d: SearchDocument) =>
    d.name.toLowerCase().includes(word) ? 0 : d.tags.includes(word) ? 1 : 2;
  return DOCS.filter(
    (d) =>
      d.price >= minPrice && `${d.name} ${d.tags.join(' ')} ${d.description}`.toLowerCase().includes(word),
  )
    .sort(
      (a, b) =>
        tier(a) - tier(b) ||
        b.popularity - a.popularity ||
        (a.productId < b.productId ? -1 : a.productId > b.productId ? 1 : 0),
    )
    .map((d) => d.productId);
}

describe('PostgreSQL search engine: ranking a catalog larger than the popularity bucket', () => {
  let db: TestDatabase;
  let engine: PostgresSearchEngine;
  beforeAll(async () => {
    db = await createTestDatabase();
    engine = new PostgresSearchEngine({ pool: db.pool });
    const rebuild = await engine.beginRebuild();
    await rebuild.write(DOCS);
    await rebuild.finish();
  });
  afterAll(async () => db?.drop());

  const pages = async (q: string, size: number, count: number, minPrice?: number) => {
    const ids: string[] = [];
    for (let page = 1; page <= count; page++) {
      const r = await engine.search({ q, page, size, ...(minPrice === undefined ? {} : { minPrice }) });
      ids.push(...r.productIds);
    }
    return ids;
  };

  it('answers walked pages and fully ranked pages in one order, with no product twice', async () => {
    const want = expected('camiseta');
    expect(want.length).toBeGreaterThan(PG_EXACT_TOTAL_CAP);
    // Pages 1-10 of 20 are walked to; 11 onwards, and the tag and description tiers, rank every
    // match.
    const got = await pages('camiseta', 20, 40);
    expect(got).toEqual(want.slice(0, 800));
    expect(new Set(got).size).toBe(got.length);
    const deep = await engine.search({ q: 'camiseta', page: 30, size: 50 });
    expect(deep.productIds).toEqual(want.slice(1450, 1500));
    expect(deep).toMatchObject({ total: PG_EXACT_TOTAL_CAP, totalIsExact: false });
  });

  it('ranks every match when the walk finds too few name matches', async () => {
    const want = expected('lanterna');
    const first = await engine.search({ q: 'lanterna', page: 1, size: 20 });
    expect(first.productIds).toEqual(want.slice(0, 20));
    expect(first).toMatchObject({ total: PG_EXACT_TOTAL_CAP, totalIsExact: false });
    expect(await pages('lanterna', 20, 5)).toEqual(want.slice(0, 100));
    expect(await pages('caneca', 50, 4)).toEqual(expected('caneca').slice(0, 200));
  });

  it('applies filters on both paths, and counts what the filters leave', async () => {
    const want = expected('camiseta', 4000);
    const first = await engine.search({ q: 'camiseta', page: 1, size: 20, minPrice: 4000 });
    expect(first.productIds).toEqual(want.slice(0, 20));
    expect(first).toMatchObject({ total: want.length, totalIsExact: true });
    expect(await pages('camiseta', 100, Math.ceil(want.length / 100), 4000)).toEqual(want);
  });

  it('filters option values (on one variant) and a price range on the walked and the ranked paths', async () => {
    const sold = new Set(DOCS.filter((d) => d.variants.length).map((d) => d.productId));
    const blue = expected('camiseta').filter((id) => sold.has(id));
    expect(blue.length).toBeGreaterThan(PG_EXACT_TOTAL_CAP);
    const ids = async (
      extra: Partial<Parameters<PostgresSearchEngine['search']>[0]>,
      size: number,
      count: number,
    ) => {
      const out: string[] = [];
      for (let page = 1; page <= count; page++)
        out.push(...(await engine.search({ q: 'camiseta', page, size, ...extra })).productIds);
      return out;
    };
    const azulM = {
      options: [
        { name: 'Cor', values: ['Azul'] },
        { name: 'Tamanho', values: ['M'] },
      ],
    };
    // Pages 1-10 walked, 11-15 ranked in full.
    expect(await ids(azulM, 20, 15)).toEqual(blue.slice(0, 300));
    const azulG = {
      options: [
        { name: 'Cor', values: ['Azul'] },
        { name: 'Tamanho', values: ['G'] },
      ],
    };
    expect(await engine.search({ q: 'camiseta', page: 1, size: 20, ...azulG })).toMatchObject({
      productIds: [],
      total: 0,
    });
    const byId = new Map(DOCS.map((d) => [d.productId, d]));
    const inRange = expected('camiseta').filter((id) => {
      const p = byId.get(id)!.price;
      return p >= 2000 && p <= 4000;
    });
    const ranged = await ids({ minPrice: 2000, maxPrice: 4000 }, 100, Math.ceil(inRange.length / 100));
    expect(ranged).toEqual(inRange);
  });
});
