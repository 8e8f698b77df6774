/**
 * Request shape of the OpenSearch engine: the official client talks to a local HTTP endpoint
 * that records each request and answers like OpenSearch would. (The same engine runs the full
 * search contract against a live cluster when OPENSEARCH_URL is set.)
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { facetsFrom, OpenSearchEngine, searchBody } from './opensearch.search-engine.ts';

interface Recorded {
  method: string;
  path: string;
  body: string;
}

describe('OpenSearch engine request shape', () => {
  const requests: Recorded[] = [];
  let server: http.Server;
  let engine: OpenSearchEngine;
  /** Whether the alias exists already (an index an earlier release made). */
  let aliasExists = false;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = req.url ?? '';
        requests.push({ method: req.method ?? '', path, body });
        res.setHeader('content-type', 'application/json');
        if (req.method === 'HEAD' && path.startsWith('/_alias/'))
          return res.writeHead(aliasExists ? 200 : 404).end();
        if (path.includes('_bulk')) return res.end(JSON.stringify({ took: 1, errors: false, items: [] }));
        if (path.includes('_search')) {
          const wantsSuggest = body.includes('"suggest"');
          return res.end(
            JSON.stringify(
              wantsSuggest
                ? {
                    hits: { total: { value: 0, relation: 'eq' }, hits: [] },
                    suggest: {
                      product_suggest: [{ options: [{ _id: 'p1', _source: { name: 'Camiseta Azul' } }] }],
                    },
                  }
                : {
                    hits: { total: { value: 10000, relation: 'gte' }, hits: [{ _id: 'p1' }, { _id: 'p2' }] },
                  },
            ),
          );
        }
        return res.end(JSON.stringify({ acknowledged: true }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    engine = new OpenSearchEngine({
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      index: 'products',
    });
  });
  afterAll(async () => {
    await engine?.close();
    await new Promise((r) => server.close(r));
  });

  it('creates the index behind the alias with the autocomplete analyzer and a completion field', async () => {
    await engine.search({ q: 'camiseta', page: 1, size: 20 });
    const create = requests.find((r) => r.method === 'PUT' && /^\/products_\d+/.test(r.path))!;
    const body = JSON.parse(create.body) as {
      settings: {
        analysis: {
          analyzer: Record<string, { filter: string[] }>;
          filter: Record<string, { type: string }>;
        };
      };
      mappings: {
        properties: Record<string, { type?: string; fields?: Record<string, { analyzer: string }> }>;
      };
      aliases: Record<string, unknown>;
    };
    expect(body.aliases).toHaveProperty('products');
    expect(body.settings.analysis.analyzer.autocomplete!.filter).toContain('autocomplete_filter');
    expect(body.settings.analysis.filter.autocomplete_filter!.type).toBe('edge_ngram');
    expect(body.mappings.properties.name!.fields!.autocomplete!.analyzer).toBe('autocomplete');
    expect(body.mappings.properties.suggest!.type).toBe('completion');
    for (const [field, type] of [
      ['id', 'keyword'],
      ['category', 'keyword'],
      ['price', 'integer'],
      ['tags', 'keyword'],
      ['created_at', 'date'],
      ['popularity_score', 'float'],
      ['variants', 'nested'],
      ['option_values', 'keyword'],
    ]) {
      expect(body.mappings.properties[field!]!.type, field).toBe(type);
    }
  });

  it("sends the original design's multi_match with filters and score-then-popularity sort, and reads totals", async () => {
    requests.length = 0;
    const r = await engine.search({
      q: 'camisetta',
      categoryId: 'c1',
      minPrice: 10000,
      maxPrice: 50000,
      tags: ['algodao'],
      page: 2,
      size: 20,
    });
    expect(r).toEqual({ productIds: ['p1', 'p2'], total: 10000, totalIsExact: false });
    const sent = JSON.parse(requests.find((x) => x.path.startsWith('/products/_search'))!.body) as Record<
      string,
      unknown
    >;
    expect(sent).toMatchObject({
      query: {
        bool: {
          must: [
            {
              multi_match: {
                query: 'camisetta',
                fields: ['name^3', 'description', 'tags^2'],
                type: 'best_fields',
                fuzziness: 'AUTO',
              },
            },
          ],
          filter: [
            { term: { category_path: 'c1' } },
            { term: { tags: 'algodao' } },
            // Variant prices: some variant of the product costs that much.
            {
              nested: {
                path: 'variants',
                query: { bool: { filter: [{ range: { 'variants.price': { gte: 10000, lte: 50000 } } }] } },
              },
            },
          ],
        },
      },
      sort: [{ _score: 'desc' }, { popularity_score: 'desc' }, { id: 'asc' }],
      from: 20,
      size: 20,
    });
  });

  it('filters options and prices on one nested variant; values of an option OR-ed, options AND-ed', () => {
    const body = searchBody({
      q: '',
      options: [
        { name: 'Cor', values: ['Azul', 'Preto'] },
        { name: 'Tamanho', values: ['M'] },
      ],
      minPrice: 5000,
      page: 1,
      size: 20,
    });
    expect(body.query.bool.filter).toEqual([
      {
        nested: {
          path: 'variants',
          query: {
            bool: {
              filter: [
                { terms: { 'variants.options': ['Cor:Azul', 'Cor:Preto'] } },
                { terms: { 'variants.options': ['Tamanho:M'] } },
                { range: { 'variants.price': { gte: 5000 } } },
              ],
            },
          },
        },
      },
    ]);
    expect(body).not.toHaveProperty('aggs');
    expect(body).not.toHaveProperty('post_filter');
  });

  it('counts facets with aggregations: the variant filter moves to post_filter, each option without its own', () => {
    const q = {
      q: 'camiseta',
      options: [{ name: 'Cor', values: ['Azul'] }],
      maxPrice: 9000,
      facets: true,
      page: 1,
      size: 20,
    };
    const body = searchBody(q) as ReturnType<typeof searchBody> & {
      aggs: Record<string, { aggs: { ok: { filter: { bool: { filter: unknown[] } } } } }>;
      post_filter: unknown;
    };
    expect(body.query.bool.filter).toEqual([]);
    expect(body.post_filter).toEqual({
      nested: {
        path: 'variants',
        query: {
          bool: {
            filter: [
              { terms: { 'variants.options': ['Cor:Azul'] } },
              { range: { 'variants.price': { lte: 9000 } } },
            ],
          },
        },
      },
    });
    const price = { range: { 'variants.price': { lte: 9000 } } };
    const blue = { terms: { 'variants.options': ['Cor:Azul'] } };
    // Every other option: among variants meeting all filters; Cor: without the Cor filter.
    expect(body.aggs.facet_all.aggs.ok.filter.bool.filter).toEqual([blue, price]);
    expect(body.aggs.facet_0!.aggs.ok.filter.bool.filter).toEqual([price]);
    // The price span: among variants meeting the option filters.
    expect(body.aggs.facet_price.aggs.ok.filter.bool.filter).toEqual([blue]);

    const bucket = (key: string, products: number) => ({
      key,
      doc_count: products * 3,
      products: { doc_count: products },
    });
    expect(
      facetsFrom(q, {
        facet_all: {
          ok: {
            pairs: {
              sum_other_doc_count: 0,
              buckets: [bucket('Cor:Azul', 4), bucket('Tamanho:M', 3), bucket('Tamanho:P', 4)],
            },
          },
        },
        facet_0: {
          ok: { pairs: { buckets: [bucket('Cor:Azul', 4), bucket('Cor:Preto', 6), bucket('Tamanho:G', 9)] } },
        },
        facet_price: { ok: { min: { value: 2990 }, max: { value: 8990 } } },
      }),
    ).toEqual({
      options: [
        {
          name: 'Cor',
          values: [
            { value: 'Preto', count: 6 },
            { value: 'Azul', count: 4 },
          ],
        },
        {
          name: 'Tamanho',
          values: [
            { value: 'P', count: 4 },
            { value: 'M', count: 3 },
          ],
        },
      ],
      price: { min: 2990, max: 8990 },
      exact: true,
    });
  });

  it('adds the variant fields to the mapping of an index an earlier release made', async () => {
    aliasExists = true;
    const older = new OpenSearchEngine({
      node: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      index: 'products',
    });
    try {
      requests.length = 0;
      await older.search({ q: 'camiseta', page: 1, size: 20 });
      const put = requests.find((r) => r.path.startsWith('/products/_mapping'))!;
      expect(JSON.parse(put.body)).toEqual({
        properties: {
          max_price: { type: 'integer' },
          option_values: { type: 'keyword' },
          variants: {
            type: 'nested',
            properties: { price: { type: 'integer' }, options: { type: 'keyword' } },
          },
        },
      });
      expect(requests.some((r) => r.method === 'PUT' && /^\/products_\d+/.test(r.path))).toBe(false);
    } finally {
      aliasExists = false;
      await older.close();
    }
  });

  it('suggests through the completion suggester, fuzzy', async () => {
    requests.length = 0;
    expect(await engine.suggest('camis', 5)).toEqual([{ text: 'Camiseta Azul', productId: 'p1' }]);
    const sent = JSON.parse(requests[0]!.body) as {
      suggest: {
        product_suggest: { prefix: string; completion: { field: string; size: number; fuzzy: unknown } };
      };
    };
    expect(sent.suggest.product_suggest).toEqual({
      prefix: 'camis',
      completion: { field: 'suggest', size: 5, skip_duplicates: true, fuzzy: { fuzziness: 2 } },
    });
  });

  it('bulk-indexes and deletes by product id', async () => {
    requests.length = 0;
    await engine.upsert([
      {
        productId: 'p9',
        name: 'Caneca',
        description: null,
        tags: ['cozinha'],
        categoryId: 'c2',
        categoryPath: ['c2', 'c1'],
        price: 2990,
        popularity: 1.5,
        updatedAt: '2026-11-01 10:00:00.123+00',
        variants: [
          { price: 2990, options: { Cor: 'Azul' } },
          { price: 3490, options: { Cor: 'Preto' } },
        ],
      },
    ]);
    await engine.remove(['p8']);
    const [index, remove] = requests.filter((r) => r.path.includes('_bulk'));
    const lines = index!.body
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(lines[0]).toEqual({ index: { _id: 'p9' } });
    expect(lines[1]).toMatchObject({
      id: 'p9',
      name: 'Caneca',
      price: 2990,
      max_price: 3490,
      option_values: ['Cor:Azul', 'Cor:Preto'],
      variants: [
        { price: 2990, options: ['Cor:Azul'] },
        { price: 3490, options: ['Cor:Preto'] },
      ],
      category: 'c2',
      category_path: ['c2', 'c1'],
      updated_at: '2026-11-01T10:00:00.123+00:00',
      suggest: { input: ['Caneca'] },
    });
    expect(JSON.parse(remove!.body.trim())).toEqual({ delete: { _id: 'p8' } });
  });

  it('rebuilds into a new index and swaps the alias atomically', async () => {
    requests.length = 0;
    const rebuild = await engine.beginRebuild();
    await rebuild.write([]);
    await rebuild.finish();
    const created = requests.find((r) => r.method === 'PUT' && /^\/products_\d+/.test(r.path))!;
    const aliases = requests.find((r) => r.path.startsWith('/_aliases'))!;
    const actions = (
      JSON.parse(aliases.body) as { actions: Record<string, { index: string; alias: string }>[] }
    ).actions;
    expect(actions.at(-1)).toEqual({
      add: { index: created.path.slice(1).split('?')[0], alias: 'products' },
    });
  });
});
