/**
 * The search engine contract, run against the PostgreSQL engine and, when OPENSEARCH_URL is set,
 * against a live OpenSearch/Elasticsearch. Same documents, same questions, same answers.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SearchDocument, SearchEngine } from '../../src/platform/search/search-engine.ts';
import { PostgresSearchEngine } from '../../src/platform/search/postgres.search-engine.ts';
import { OpenSearchEngine } from '../../src/platform/search/opensearch.search-engine.ts';
import { createTestDatabase, type TestDatabase } from '../db.ts';

const OPENSEARCH_URL = process.env.OPENSEARCH_URL;
if (!OPENSEARCH_URL)
  console.warn(
    'skipping the live OpenSearch contract suite: OPENSEARCH_URL is not set (no OpenSearch on this machine)',
  );

const cat = { root: randomUUID(), shirts: randomUUID(), shoes: randomUUID() };
const doc = (
  name: string,
  price: number,
  category: string,
  extra: Partial<SearchDocument> = {},
): SearchDocument => ({
  productId: randomUUID(),
  name,
  description: `${name}. Produto de qualidade.`,
  tags: [],
  categoryId: category,
  categoryPath: category === cat.root ? [cat.root] : [category, cat.root],
  price,
  popularity: 0,
  updatedAt: '2026-11-01T12:00:00.000Z',
  variants: [],
  ...extra,
});

const DOCS = [
  doc('Camiseta Básica Algodão Azul', 4990, cat.shirts, {
    popularity: 5,
    tags: ['algodao'],
    variants: [
      { price: 4990, options: { Tamanho: 'P', Cor: 'Azul' } },
      { price: 4990, options: { Tamanho: 'M', Cor: 'Preto' } },
    ],
  }),
  doc('Camiseta Estampada Preta', 5990, cat.shirts, {
    popularity: 50,
    variants: [
      { price: 5990, options: { Tamanho: 'M', Cor: 'Azul' } },
      { price: 7990, options: { Tamanho: 'G', Cor: 'Preto' } },
    ],
  }),
  doc('Camiseta Polo Branca', 8990, cat.shirts, { popularity: 1 }),
  doc('Tênis de Corrida Leve', 29990, cat.shoes, { popularity: 20 }),
  doc('Tênis Casual Couro', 25990, cat.shoes, { tags: ['couro'] }),
  doc('Café Especial Torra Média', 4590, cat.root, { popularity: 3 }),
  doc('Cafeteira Italiana Inox', 12990, cat.root),
];

const engines: {
  name: string;
  skip: boolean;
  make: () => Promise<{ engine: SearchEngine; close: () => Promise<void> }>;
}[] = [
  {
    name: 'PostgreSQL',
    skip: false,
    make: async () => {
      const db: TestDatabase = await createTestDatabase();
      return { engine: new PostgresSearchEngine({ pool: db.pool }), close: () => db.drop() };
    },
  },
  {
    name: 'OpenSearch (live)',
    skip: !OPENSEARCH_URL,
    make: () => {
      const engine = new OpenSearchEngine({ node: OPENSEARCH_URL!, index: `shopflow_test_${Date.now()}` });
      return Promise.resolve({ engine, close: () => engine.close() });
    },
  },
];

for (const target of engines) {
  describe.skipIf(target.skip)(`search engine contract: ${target.name}`, () => {
    let engine: SearchEngine;
    let close: () => Promise<void>;
    const names = async (q: Parameters<SearchEngine['search']>[0]) => {
      const r = await engine.search(q);
      return r.productIds.map((id) => DOCS.find((d) => d.productId === id)!.name);
    };
    beforeAll(async () => {
      ({ engine, close } = await target.make());
      const rebuild = await engine.beginRebuild();
      await rebuild.write(DOCS);
      await rebuild.finish();
    });
    afterAll(async () => close?.());

    const base = { page: 1, size: 20 };

    it('finds words, and misspelt words', async () => {
      expect((await names({ ...base, q: 'camiseta' })).sort()).toEqual(
        DOCS.slice(0, 3)
          .map((d) => d.name)
          .sort(),
      );
      expect((await names({ ...base, q: 'camisetta' })).sort()).toEqual(
        DOCS.slice(0, 3)
          .map((d) => d.name)
          .sort(),
      );
      expect(await names({ ...base, q: 'cafeteira italianna' })).toEqual(['Cafeteira Italiana Inox']);
    });

    it('ignores accents both ways', async () => {
      expect(await names({ ...base, q: 'tenis' })).toEqual(await names({ ...base, q: 'tênis' }));
      expect((await names({ ...base, q: 'tenis' })).length).toBe(2);
      expect(await names({ ...base, q: 'cafe especial' })).toEqual(['Café Especial Torra Média']);
    });

    it('sorts equally relevant hits by popularity', async () => {
      const shirts = await names({ ...base, q: 'camiseta' });
      expect(shirts[0]).toBe('Camiseta Estampada Preta');
    });

    it('filters exactly: category with sub-categories, price range, tags', async () => {
      expect((await names({ ...base, q: '', categoryId: cat.shoes })).sort()).toEqual([
        'Tênis Casual Couro',
        'Tênis de Corrida Leve',
      ]);
      expect((await names({ ...base, q: '', categoryId: cat.root })).length).toBe(DOCS.length);
      expect((await names({ ...base, q: 'camiseta', minPrice: 5000, maxPrice: 9000 })).sort()).toEqual([
        'Camiseta Estampada Preta',
        'Camiseta Polo Branca',
      ]);
      expect(await names({ ...base, q: '', tags: ['couro'] })).toEqual(['Tênis Casual Couro']);
    });

    it('filters option values on one variant (one option OR-ed, options AND-ed) with its price', async () => {
      const opts = (...pairs: [string, string[]][]) => pairs.map(([name, values]) => ({ name, values }));
      expect((await names({ ...base, q: '', options: opts(['Cor', ['Azul']]) })).sort()).toEqual([
        'Camiseta Básica Algodão Azul',
        'Camiseta Estampada Preta',
      ]);
      // Básica has a blue P and a black M, no blue M.
      expect(await names({ ...base, q: '', options: opts(['Cor', ['Azul']], ['Tamanho', ['M']]) })).toEqual([
        'Camiseta Estampada Preta',
      ]);
      expect(
        await names({ ...base, q: '', options: opts(['Cor', ['Azul', 'Preto']], ['Tamanho', ['G']]) }),
      ).toEqual(['Camiseta Estampada Preta']);
      // Some variant in range; a product indexed without variants by its price.
      expect((await names({ ...base, q: 'camiseta', minPrice: 7000 })).sort()).toEqual([
        'Camiseta Estampada Preta',
        'Camiseta Polo Branca',
      ]);
      expect(await names({ ...base, q: '', options: opts(['Cor', ['Preto']]), maxPrice: 5000 })).toEqual([
        'Camiseta Básica Algodão Azul',
      ]);
      expect(await names({ ...base, q: '', options: opts(['Cor', ['Azul']]), minPrice: 7000 })).toEqual([]);
    });

    it('counts facets: each option without its own filter, the price span without the price filter', async () => {
      const r = await engine.search({
        ...base,
        q: '',
        options: [{ name: 'Cor', values: ['Azul'] }],
        facets: true,
      });
      expect(r.total).toBe(2);
      expect(r.facets).toEqual({
        options: [
          {
            name: 'Cor',
            values: [
              { value: 'Azul', count: 2 },
              { value: 'Preto', count: 2 },
            ],
          },
          {
            name: 'Tamanho',
            values: [
              { value: 'M', count: 1 },
              { value: 'P', count: 1 },
            ],
          },
        ],
        price: { min: 4990, max: 5990 },
        exact: true,
      });
      expect((await engine.search({ ...base, q: '' })).facets).toBeUndefined();
    });

    it('pages with exact totals', async () => {
      const p1 = await engine.search({ q: '', page: 1, size: 3 });
      const p3 = await engine.search({ q: '', page: 3, size: 3 });
      expect(p1).toMatchObject({ total: DOCS.length, totalIsExact: true });
      expect(p1.productIds).toHaveLength(3);
      expect(p3.productIds).toHaveLength(1);
    });

    it('suggests at most five completions, typo-tolerant', async () => {
      const s = await engine.suggest('cami', 5);
      expect(s.length).toBeGreaterThan(0);
      expect(s.length).toBeLessThanOrEqual(5);
      for (const x of s) expect(x.text.toLowerCase()).toContain('camiseta');
      const typo = await engine.suggest('camisr', 5);
      expect(typo.some((x) => x.text.startsWith('Camiseta'))).toBe(true);
      expect((await engine.suggest('cafe', 5)).map((x) => x.text)).toContain('Café Especial Torra Média');
    });

    it('updates and removes documents; reports versions for drift repair', async () => {
      const d = DOCS[4]!;
      await engine.upsert([
        { ...d, name: 'Tênis Casual Couro Marrom', updatedAt: '2026-11-02T12:00:00.000Z' },
      ]);
      const versions = await engine.versions(null, 100);
      expect(versions).toHaveLength(DOCS.length);
      expect(
        Date.parse(
          versions
            .find((v) => v.productId === d.productId)!
            .updatedAt.replace(' ', 'T')
            .replace(/([+-]\d{2})$/, '$1:00'),
        ),
      ).toBe(Date.parse('2026-11-02T12:00:00.000Z'));
      await engine.remove([d.productId]);
      expect(await names({ ...base, q: 'couro' })).toEqual([]);
    });
  });
}
