import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { adminListQuery, listProductsQuery } from '../src/modules/catalog/catalog.sql.ts';
import { LOW_STOCK_SQL } from '../src/modules/inventory/inventory.sql.ts';
import { RESERVE_ONE_LIVE_SQL } from '../src/modules/inventory/reservation.published.ts';
import { ITEMS_BY_CUSTOMIZATION_SQL } from '../src/modules/orders/orders.sql.ts';
import { PostgresSearchEngine } from '../src/platform/search/postgres.search-engine.ts';
import type { SearchQuery } from '../src/platform/search/search-engine.ts';

describe('hot queries use the intended indexes (every module)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  beforeAll(async () => {
    await t.app.services.seed.seed({ products: 20_000, seed: 5 });
    await t.app.services.search.reindex();
    await t.db.pool.query('ANALYZE');
  });

  const plan = async (text: string, values: unknown[], opts: { noSeqScan?: boolean } = {}) => {
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN');
      // Small test tables make a sequential scan cheapest; this asks whether the index is usable.
      if (opts.noSeqScan) await client.query('SET LOCAL enable_seqscan = off');
      const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(`EXPLAIN (FORMAT JSON) ${text}`, values);
      return JSON.stringify(rows[0]!['QUERY PLAN']);
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  };

  it('store listing: keyset over the partial listing index, no sort', async () => {
    const q = listProductsQuery({ limit: 21 });
    const p = await plan(q.text, q.values);
    expect(p).toContain('idx_products_listing');
    expect(p).not.toContain('"Node Type":"Sort"');
  });

  it('admin listing: each sort pages from its own index, no sort of the catalog', async () => {
    for (const [sort, index] of [
      ['newest', 'idx_products_listing'],
      ['name', 'idx_products_admin_name'],
      ['price', 'idx_products_admin_price'],
    ] as const) {
      const q = adminListQuery({ sort, limit: 26 });
      const p = await plan(q.text, q.values);
      expect(p, sort).toContain(index);
      expect(p, sort).not.toContain('"Node Type":"Sort"');
    }
    const after = adminListQuery({
      sort: 'name',
      after: { v: 'm', id: '00000000-0000-4000-8000-000000000000' },
      limit: 26,
    });
    expect(await plan(after.text, after.values)).toContain('idx_products_admin_name');
  });

  it('category listing: the category indexes', async () => {
    const { rows } = await t.db.pool.query<{ id: string }>(
      "SELECT id FROM categories WHERE parent_id = (SELECT id FROM categories WHERE slug = 'moda')",
    );
    const q = listProductsQuery({ categoryIds: rows.map((r) => r.id), limit: 21 });
    const p = await plan(q.text, q.values);
    expect(p).toContain('idx_products_category_listing');
    expect(p).not.toMatch(
      /"Relation Name":"products"[^}]*"Node Type":"Seq Scan"|"Node Type":"Seq Scan","[^}]*"Relation Name":"products"/,
    );
  });

  it('low stock: the partial index of the original design', async () => {
    expect(await plan(LOW_STOCK_SQL, [20, null, null], { noSeqScan: true })).toContain(
      'idx_inventory_low_stock',
    );
  });

  it('customization search: the GIN index', async () => {
    expect(
      await plan(ITEMS_BY_CUSTOMIZATION_SQL, ['{"engraving":"Ana"}', 20], { noSeqScan: true }),
    ).toContain('idx_order_items_customization');
  });

  it('reservation: a primary-key lookup', async () => {
    const { rows } = await t.db.pool.query<{ product_id: string }>(
      'SELECT product_id FROM inventory LIMIT 1',
    );
    const p = await plan(RESERVE_ONE_LIVE_SQL, [rows[0]!.product_id, 1]);
    expect(p).toContain('inventory_pkey');
    expect(p).toContain('products_pkey');
  });

  /** The statements the PostgreSQL search engine runs for a query, as it runs them. */
  const searchStatements = async (q: SearchQuery) => {
    const seen: { text: string; values: unknown[] }[] = [];
    const pool = t.db.pool;
    const spy = new Proxy(pool, {
      get: (target, prop, receiver) =>
        prop === 'query'
          ? (text: string | { text: string; values?: unknown[] }, values?: unknown[]) => {
              const s =
                typeof text === 'string'
                  ? { text, values: values ?? [] }
                  : { text: text.text, values: text.values ?? [] };
              seen.push(s);
              return pool.query(s.text, s.values);
            }
          : (Reflect.get(target, prop, receiver) as unknown),
    });
    await new PostgresSearchEngine({ pool: spy }).search(q);
    return seen.filter((s) => s.text.includes('search_documents'));
  };
  const seqScanOfSearch = /"Node Type":"Seq Scan"[^}]*"Relation Name":"search_documents"/;

  it('search by option values: the GIN index of option pairs, no scan of the index table', async () => {
    const { rows } = await t.db.pool.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM search_documents WHERE option_values && ARRAY['Armazenamento:256 GB']",
    );
    expect(rows[0]!.n).toBeGreaterThan(0);
    for (const q of [
      { q: '', options: [{ name: 'Armazenamento', values: ['256 GB'] }] },
      {
        q: '',
        options: [
          { name: 'Cor', values: ['Rosa', 'Verde'] },
          { name: 'Tamanho', values: ['GG'] },
        ],
        minPrice: 5000,
      },
      { q: 'celular', options: [{ name: 'Armazenamento', values: ['256 GB'] }] },
    ]) {
      const statements = await searchStatements({ ...q, page: 1, size: 20 });
      expect(statements.length).toBeGreaterThan(0);
      for (const s of statements) {
        const p = await plan(s.text, s.values);
        expect(p, JSON.stringify(q)).not.toMatch(seqScanOfSearch);
      }
      if (!q.q)
        expect(await plan(statements[0]!.text, statements[0]!.values), JSON.stringify(q)).toContain(
          'idx_search_option_values',
        );
    }
  });

  it('store listing by option value: the listing index, each product checked by its variants index', async () => {
    const q = listProductsQuery({ options: [{ name: 'Cor', values: ['Azul'] }], limit: 21 });
    const p = await plan(q.text, q.values);
    expect(p).toContain('idx_products_listing');
    expect(p).not.toMatch(/"Node Type":"Seq Scan"[^}]*"Relation Name":"product_variants"/);
    expect(p).not.toMatch(/"Node Type":"Seq Scan"[^}]*"Relation Name":"products"/);
  });
});
