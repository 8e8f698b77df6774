import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { generateProduct, SeedService } from './seed.service.ts';

describe('demo catalog seed', () => {
  let a: TestDatabase;
  let b: TestDatabase;
  beforeAll(async () => {
    [a, b] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });
  afterAll(async () => Promise.all([a?.drop(), b?.drop()]));

  const snapshot = async (db: TestDatabase) =>
    (
      await db.pool.query<{
        id: string;
        name: string;
        base_price: number;
        available_quantity: number;
        slug: string;
      }>(
        `SELECT p.id, p.name, p.base_price, i.available_quantity, c.slug
         FROM products p
         JOIN LATERAL (SELECT SUM(available_quantity)::int AS available_quantity FROM inventory
                        WHERE product_id = p.id) i ON TRUE
         JOIN categories c ON c.id = p.category_id
         ORDER BY p.id`,
      )
    ).rows;

  it('gives every product and variant of a large catalog its own id', () => {
    // 150,000 products: the variant ids once came from the product's 32-bit random stream and met
    // other products' ids past some 60,000 products (a duplicate key in the bulk load).
    const ids = new Set<string>();
    let count = 0;
    for (let i = 0; i < 150_000; i++) {
      const p = generateProduct(42, i);
      ids.add(p.id);
      count++;
      for (const v of p.variants)
        if (v.id !== p.id) {
          ids.add(v.id);
          count++;
        }
    }
    expect(count).toBeGreaterThan(150_000);
    expect(ids.size).toBe(count);
  });

  it('is deterministic for a given seed, and differs for another', async () => {
    await new SeedService({ pool: a.pool }).seed({ products: 300, seed: 42, batchSize: 100 });
    await new SeedService({ pool: b.pool }).seed({ products: 300, seed: 42, batchSize: 64 });
    const [sa, sb] = [await snapshot(a), await snapshot(b)];
    expect(sa).toHaveLength(300);
    expect(sb).toEqual(sa);
    expect(generateProduct(43, 0).id).not.toBe(generateProduct(42, 0).id);
  });

  it('makes a realistic Brazilian catalog: Portuguese names, centavo prices, tags, stock, category tree', async () => {
    const rows = await snapshot(a);
    const names = rows.map((r) => r.name).join(' ');
    expect(names).toMatch(/Camiseta|Tênis|Café|Notebook|Panela|Chocolate/);
    for (const r of rows) {
      expect(Number.isInteger(r.base_price) && r.base_price > 0).toBe(true);
      expect(r.base_price % 100).toBe(90);
      expect(r.available_quantity).toBeGreaterThanOrEqual(0);
    }
    expect(rows.some((r) => r.available_quantity < 10)).toBe(true);
    // About one product in five is sold in sizes, colours, volumes or storage, each variant with
    // its own SKU and stock row; the others have their one default variant (the product's id).
    const { rows: shape } = await a.pool.query<{
      products: number;
      with_variants: number;
      stock_rows: number;
      variants: number;
    }>(
      `SELECT (SELECT COUNT(*)::int FROM products) AS products,
              (SELECT COUNT(DISTINCT product_id)::int FROM product_options) AS with_variants,
              (SELECT COUNT(*)::int FROM inventory) AS stock_rows,
              (SELECT COUNT(*)::int FROM product_variants) AS variants`,
    );
    const share = shape[0]!.with_variants / shape[0]!.products;
    expect(share).toBeGreaterThan(0.1);
    expect(share).toBeLessThan(0.4);
    expect(shape[0]!.stock_rows).toBe(shape[0]!.variants);
    const { rows: defaults } = await a.pool.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM products p
       WHERE NOT EXISTS (SELECT 1 FROM product_options o WHERE o.product_id = p.id)
         AND NOT EXISTS (SELECT 1 FROM product_variants v WHERE v.id = p.id AND v.options = '{}'::jsonb)`,
    );
    expect(defaults[0]!.n).toBe(0);
    const { rows: cats } = await a.pool.query<{ roots: number; children: number }>(
      'SELECT COUNT(*) FILTER (WHERE parent_id IS NULL) AS roots, COUNT(*) FILTER (WHERE parent_id IS NOT NULL) AS children FROM categories',
    );
    expect(cats[0]!.roots).toBeGreaterThanOrEqual(5);
    expect(cats[0]!.children).toBeGreaterThan(cats[0]!.roots);
    const { rows: tags } = await a.pool.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM products WHERE cardinality(tags) >= 2',
    );
    expect(tags[0]!.n).toBe(300);
  });

  it('can be interrupted and rerun: committed batches are kept, the rest is completed, nothing doubles', async () => {
    const db = await createTestDatabase();
    try {
      const service = new SeedService({ pool: db.pool });
      const abort = new AbortController();
      const progress: number[] = [];
      await expect(
        service.seed({
          products: 250,
          seed: 9,
          batchSize: 100,
          signal: abort.signal,
          onProgress: (done) => {
            progress.push(done);
            if (done === 100) abort.abort();
          },
        }),
      ).rejects.toThrow();
      expect(progress).toEqual([100]);
      const count = async () =>
        (await db.pool.query<{ n: number }>('SELECT COUNT(*) AS n FROM products')).rows[0]!.n;
      expect(await count()).toBe(100);

      const rerun = await service.seed({ products: 250, seed: 9, batchSize: 100 });
      expect(rerun).toMatchObject({ inserted: 150, skipped: 100 });
      expect(await count()).toBe(250);
      expect(await service.seed({ products: 250, seed: 9, batchSize: 100 })).toMatchObject({
        inserted: 0,
        skipped: 250,
      });
      expect(await count()).toBe(250);
    } finally {
      await db.drop();
    }
  });

  it('sets the catalog indexes aside for a bulk load into an empty catalog and builds them again, also after an interruption', async () => {
    const db = await createTestDatabase();
    try {
      const indexes = async () =>
        (
          await db.pool.query<{ def: string }>(
            `SELECT pg_get_indexdef(indexrelid) AS def FROM pg_index
             WHERE indrelid IN ('products'::regclass, 'inventory'::regclass, 'product_variants'::regclass)
             ORDER BY 1`,
          )
        ).rows.map((r) => r.def);
      const setAside = async () =>
        (await db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM seed_deferred_indexes')).rows[0]!
          .n;
      const before = await indexes();
      expect(before.length).toBeGreaterThan(5);
      const service = new SeedService({ pool: db.pool });
      const abort = new AbortController();
      const phases: string[] = [];
      await expect(
        service.seed({
          products: 300,
          seed: 5,
          batchSize: 100,
          bulk: true,
          signal: abort.signal,
          onPhase: (m) => phases.push(m),
          onProgress: (done) => {
            if (done === 100) abort.abort();
          },
        }),
      ).rejects.toThrow();
      // Interrupted mid-load: only the unique indexes are there, the rest is remembered.
      expect(await setAside()).toBe(before.filter((d) => !d.includes('UNIQUE')).length);
      expect((await indexes()).every((d) => d.includes('UNIQUE'))).toBe(true);
      // The rerun finds a catalog that is not empty: it sets nothing more aside, and builds what was.
      const rerun = await service.seed({
        products: 300,
        seed: 5,
        batchSize: 100,
        bulk: true,
        onPhase: (m) => phases.push(m),
      });
      expect(rerun).toMatchObject({ inserted: 200, skipped: 100 });
      expect(await setAside()).toBe(0);
      expect(await indexes()).toEqual(before);
      expect(phases.some((m) => m.startsWith('building'))).toBe(true);
      // Into a catalog that is not empty, a bulk seed leaves the indexes alone.
      await service.seed({ products: 400, seed: 5, batchSize: 100, bulk: true });
      expect(await indexes()).toEqual(before);
      const { rows } = await db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM products');
      expect(rows[0]!.n).toBe(400);
    } finally {
      await db.drop();
    }
  });
});
