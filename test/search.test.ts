import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/eventually.ts';
import { createTestApp, type TestApp } from './app.ts';

type SearchBody = {
  items: { id: string; name: string; basePrice: number; categoryId: string }[];
  total: number;
  totalIsExact: boolean;
  page: number;
  size: number;
};

describe('search through the API (PostgreSQL engine, in-process events)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.services.seed.seed({
      products: 3000,
      seed: 21,
      onBatch: (batch) => t.app.services.search.sync(batch.productIds),
    });
    await t.app.worker.start();
  });
  afterAll(async () => t?.close());

  const search = async (qs: string) => {
    const res = await t.server.inject(`/store/search?${qs}`);
    expect(res.statusCode, res.body).toBe(200);
    return res.json<SearchBody>();
  };

  it('finds a misspelt product word, and accented and plain spellings alike', async () => {
    const right = await search('q=camiseta&size=100');
    expect(right.total).toBeGreaterThan(5);
    // Names first (weight A); products of the Camisetas category also match through its tag (B).
    expect(right.items[0]!.name.toLowerCase()).toMatch(/camiseta/);
    const { rows: shirts } = await t.db.pool.query<{ id: string }>(
      "SELECT id FROM categories WHERE slug = 'camisetas'",
    );
    for (const p of right.items)
      expect(p.name.toLowerCase().includes('camiseta') || p.categoryId === shirts[0]!.id).toBe(true);
    const typo = await search('q=camisetta&size=100');
    expect(typo.items.map((p) => p.id)).toEqual(right.items.map((p) => p.id));
    expect((await search('q=cafe&size=100')).items.map((p) => p.id)).toEqual(
      (await search('q=caf%C3%A9&size=100')).items.map((p) => p.id),
    );
    expect((await search('q=tenis&size=50')).total).toBeGreaterThan(0);
  });

  it('holds category and price filters exactly, and counts exactly', async () => {
    const { rows: cats } = await t.db.pool.query<{ id: string }>(
      "SELECT id FROM categories WHERE slug = 'moda'",
    );
    const moda = cats[0]!.id;
    const r = await search(`categoryId=${moda}&minPrice=5000&maxPrice=15000&size=100`);
    const { rows } = await t.db.pool.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM products p JOIN categories c ON c.id = p.category_id
       WHERE c.parent_id = $1 AND p.base_price BETWEEN 5000 AND 15000 AND p.deleted_at IS NULL`,
      [moda],
    );
    expect(r).toMatchObject({ total: rows[0]!.n, totalIsExact: true, page: 1, size: 100 });
    const { rows: children } = await t.db.pool.query<{ id: string }>(
      'SELECT id FROM categories WHERE parent_id = $1',
      [moda],
    );
    const allowed = new Set(children.map((c) => c.id));
    for (const p of r.items) {
      expect(allowed.has(p.categoryId)).toBe(true);
      expect(p.basePrice).toBeGreaterThanOrEqual(5000);
      expect(p.basePrice).toBeLessThanOrEqual(15000);
    }
  });

  it('suggests at most five completions', async () => {
    const res = await t.server.inject('/store/search/suggest?q=cafe');
    const { suggestions } = res.json<{ suggestions: { text: string; productId: string }[] }>();
    expect(suggestions.length).toBeGreaterThan(0);
    expect(suggestions.length).toBeLessThanOrEqual(5);
    for (const s of suggestions)
      expect(
        s.text
          .normalize('NFD')
          .replace(/[\u0300-\u036f]/g, '')
          .toLowerCase(),
      ).toMatch(/cafe/);
  });

  it('rejects bad parameters', async () => {
    for (const qs of [
      'size=101',
      'page=0',
      'minPrice=-1',
      'categoryId=x',
      'minPrice=10&maxPrice=5',
      'bogus=1',
    ]) {
      const res = await t.server.inject(`/store/search?${qs}`);
      expect(res.statusCode, qs).toBe(400);
    }
    expect((await t.server.inject('/store/search/suggest')).statusCode).toBe(400);
  });

  it('follows renames and soft deletes within seconds, through the outbox', async () => {
    const admin = { authorization: `Bearer ${t.adminKey}` };
    const target = (await search('q=cafeteira&size=1')).items[0]!;
    await t.server.inject({
      method: 'PATCH',
      url: `/admin/products/${target.id}`,
      headers: admin,
      payload: { name: 'Chaleira Elétrica Xablau' },
    });
    await eventually(
      async () => expect((await search('q=xablau')).items.some((p) => p.id === target.id)).toBe(true),
      { timeoutMs: 5000, intervalMs: 100 },
    );
    await t.server.inject({ method: 'DELETE', url: `/admin/products/${target.id}`, headers: admin });
    expect((await search('q=xablau')).items.some((p) => p.id === target.id)).toBe(false);
    // The index itself drops it once the product.deleted event is relayed.
    await eventually(
      async () => {
        const { rows } = await t.db.pool.query<{ n: number }>(
          'SELECT COUNT(*)::int AS n FROM search_documents WHERE product_id = $1',
          [target.id],
        );
        expect(rows[0]!.n).toBe(0);
      },
      { timeoutMs: 5000, intervalMs: 100 },
    );
  });

  it('answers a repeated query from the results cache, and drops it on every index write', async () => {
    const admin = { authorization: `Bearer ${t.adminKey}` };
    const hits = async () =>
      Number(
        /shopflow_cache_requests_total\{cache="search",result="hit"\} (\d+)/.exec(
          (await t.server.inject('/metrics')).body,
        )?.[1] ?? 0,
      );
    const first = await search('q=chocolate&size=5');
    const before = await hits();
    expect(await search('q=chocolate&size=5')).toEqual(first);
    expect(await hits()).toBe(before + 1);

    const created = await t.server.inject({
      method: 'POST',
      url: '/admin/products',
      headers: admin,
      payload: { name: 'Chocolate Amargo Cacau Único', basePrice: 1290, availableQuantity: 3 },
    });
    expect(created.statusCode).toBe(201);
    // The indexer writes the new product, which empties the cache: the same query counts it.
    await eventually(async () => expect((await search('q=chocolate&size=5')).total).toBe(first.total + 1), {
      timeoutMs: 5000,
      intervalMs: 100,
    });
  });

  it('reindexes while searches keep answering, and repairs drift', async () => {
    const before = (await search('q=camiseta&size=100')).total;
    let searching = true;
    let answered = 0;
    const searcher = (async () => {
      while (searching) {
        // A new query each time, so every one reaches the engine (not the results cache).
        const res = await t.server.inject(`/store/search?q=camiseta&minPrice=${answered}`);
        expect(res.statusCode).toBe(200);
        expect(res.json<SearchBody>().total).toBeGreaterThan(0);
        answered++;
      }
    })();
    const r = await t.app.services.search.reindex();
    searching = false;
    await searcher;
    expect(r.indexed).toBeGreaterThan(2900);
    expect(answered).toBeGreaterThan(0);
    expect((await search('q=camiseta&size=100')).total).toBe(before);

    await t.db.pool.query(
      'DELETE FROM search_documents WHERE product_id IN (SELECT product_id FROM search_documents ORDER BY product_id LIMIT 3)',
    );
    await t.db.pool.query(
      "UPDATE search_documents SET source_updated_at = '2000-01-01' WHERE product_id IN (SELECT product_id FROM search_documents ORDER BY product_id DESC LIMIT 2)",
    );
    // Gone from the catalog behind the indexer's back: the index still has it.
    const { rows: gone } = await t.db.pool.query<{ id: string }>(
      'UPDATE products SET deleted_at = NOW() WHERE id = (SELECT product_id FROM search_documents ORDER BY product_id OFFSET 100 LIMIT 1) RETURNING id',
    );
    const drift = await t.app.services.search.reconcile({ fix: false });
    expect([drift.missing, drift.stale, drift.extra]).toEqual([3, 2, 1]);
    expect(drift.examples.extra).toEqual([gone[0]!.id]);
    expect([drift.examples.missing.length, drift.examples.stale.length]).toEqual([3, 2]);
    await t.app.services.search.reconcile({ fix: true });
    const after = await t.app.services.search.reconcile({ fix: false });
    expect([after.missing, after.stale, after.extra]).toEqual([0, 0, 0]);
    const { rowCount } = await t.db.pool.query('SELECT 1 FROM search_documents WHERE product_id = $1', [
      gone[0]!.id,
    ]);
    expect(rowCount).toBe(0);
  });

  it('starts a reindex job over HTTP (202) and reports its progress', async () => {
    const admin = { authorization: `Bearer ${t.adminKey}` };
    const res = await t.server.inject({ method: 'POST', url: '/admin/search/reindex', headers: admin });
    expect(res.statusCode).toBe(202);
    const { jobId } = res.json<{ jobId: string }>();
    await eventually(
      async () => {
        const job = await t.server.inject({ url: `/admin/search/reindex/${jobId}`, headers: admin });
        expect(job.json<{ status: string }>().status).toBe('done');
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
  });
});

describe('bulk loading an empty search index (large seeds)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('loads without search structures, builds them once, swaps, and catches up changes made meanwhile', async () => {
    const search = t.app.services.search;
    // An earlier seed that was interrupted before indexing left its first batch in the catalog.
    await t.app.services.seed.seed({ products: 1000, seed: 5, batchSize: 1000 });
    const bulk = await search.bulkLoad();
    expect(bulk).toBeDefined();
    // One rebuild at a time: a second bulk load (or a reindex) is refused while this one runs.
    expect(await search.bulkLoad()).toBeUndefined();
    // As `shopflow seed` does: the batches this run writes are indexed from the rows it wrote, the
    // one found from the earlier run is read back from the catalog.
    const handed = { rows: 0, ids: 0 };
    await t.app.services.seed.seed({
      products: 2500,
      seed: 5,
      batchSize: 1000,
      handOverPresent: true,
      onBatch: (batch) => {
        handed[batch.rows ? 'rows' : 'ids']++;
        return batch.rows ? bulk!.addSources(batch.rows) : bulk!.add(batch.productIds);
      },
    });
    expect(handed).toEqual({ rows: 2, ids: 1 });
    // Made during the load, outside the seed: the catch-up indexes it.
    const late = await t.app.services.catalog.createProduct({
      name: 'Garrafa Térmica Inoxidável Tardia',
      basePrice: 8990,
      availableQuantity: 5,
    });
    const { rows: before } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM search_documents',
    );
    expect(before[0]!.n).toBe(0); // nothing is searchable until the swap
    await bulk!.finish();

    const { rows: after } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM search_documents',
    );
    expect(after[0]!.n).toBe(2501);
    const { rows: indexes } = await t.db.pool.query<{ indexname: string }>(
      "SELECT indexname FROM pg_indexes WHERE tablename = 'search_documents' ORDER BY indexname",
    );
    expect(indexes.map((i) => i.indexname)).toEqual([
      'idx_search_category_path',
      'idx_search_name_trgm',
      'idx_search_option_values',
      'idx_search_popularity',
      'idx_search_price',
      'idx_search_tags',
      'idx_search_tsv',
      'search_documents_pkey',
    ]);
    const res = await t.server.inject('/store/search?q=garrafa%20tardia');
    expect(res.json<SearchBody>().items.map((i) => i.id)).toContain(late.id);
    // The index is no longer empty: the next large seed indexes batch by batch.
    expect(await search.bulkLoad()).toBeUndefined();

    // What the load wrote is what a rebuild from the catalog writes, field for field.
    expect(await search.reconcile({ fix: false })).toMatchObject({ missing: 0, stale: 0, extra: 0 });
    const documents = async () =>
      (
        await t.db.pool.query<Record<string, unknown>>(
          `SELECT product_id, name, description, tags, category_id, category_path, price, popularity,
                  source_updated_at, name_folded, tsv::text AS tsv, max_price, option_values, variants
             FROM search_documents ORDER BY product_id`,
        )
      ).rows;
    const loaded = await documents();
    expect(loaded).toHaveLength(2501);
    // Every document carries its variants: prices and option values (a fifth of the seed has options).
    expect(loaded.every((d) => (d.variants as unknown[]).length > 0)).toBe(true);
    expect(loaded.filter((d) => (d.option_values as string[]).length > 0).length).toBeGreaterThan(200);
    await search.reindex();
    expect(await documents()).toEqual(loaded);
  });
});
