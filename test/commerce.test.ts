import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { listProductsQuery } from '../src/modules/catalog/catalog.sql.ts';
import { LOW_STOCK_SQL, RESERVE_ONE_LIVE_SQL } from '../src/modules/inventory/inventory.sql.ts';
import { ITEMS_BY_CUSTOMIZATION_SQL } from '../src/modules/orders/orders.sql.ts';

interface Res<T> {
  status: number;
  body: T;
}
type Err = { error: { code: string; details?: unknown } };

describe('commerce core', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  const call = async <T = Record<string, unknown>>(
    method: string,
    url: string,
    body?: unknown,
    token?: string,
  ): Promise<Res<T>> => {
    const res = await t.server.inject({
      method: method as 'GET',
      url,
      headers: { authorization: `Bearer ${token ?? t.adminKey}` },
      ...(body === undefined ? {} : { payload: body as object }),
    });
    return { status: res.statusCode, body: (res.body ? res.json() : undefined) as T };
  };
  const customer = async (email: string) => {
    await call('POST', '/store/customers', { email, password: 'senha-segura-9', name: email.split('@')[0] });
    return (
      await call<{ sessionToken: string }>('POST', '/store/auth/login', { email, password: 'senha-segura-9' })
    ).body.sessionToken;
  };
  const newProduct = async (body: Record<string, unknown>) =>
    (await call<{ id: string }>('POST', '/admin/products', body)).body.id;

  describe('catalog admin', () => {
    it('creates, updates and validates products; tags are normalised', async () => {
      const cat = await call<{ id: string; slug: string }>('POST', '/admin/categories', {
        name: 'Cafés Especiais',
      });
      expect(cat.status).toBe(201);
      expect(cat.body.slug).toBe('cafes-especiais');
      const created = await call<{
        id: string;
        tags: string[];
        availableQuantity: number;
        category: { slug: string };
      }>('POST', '/admin/products', {
        name: 'Café Especial Torra Média',
        description: 'Grãos do Cerrado Mineiro',
        basePrice: 4590,
        categoryId: cat.body.id,
        tags: ['Café', 'café', ' Orgânico '],
        availableQuantity: 12,
      });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({
        tags: ['café', 'orgânico'],
        availableQuantity: 12,
        category: { slug: 'cafes-especiais' },
      });
      const patched = await call<{ basePrice: number; name: string; description: string }>(
        'PATCH',
        `/admin/products/${created.body.id}`,
        { basePrice: 3990 },
      );
      expect(patched.body).toMatchObject({
        basePrice: 3990,
        name: 'Café Especial Torra Média',
        description: 'Grãos do Cerrado Mineiro',
      });
      expect(
        (
          await call<{ description: null }>('PATCH', `/admin/products/${created.body.id}`, {
            description: null,
          })
        ).body.description,
      ).toBeNull();

      for (const bad of [
        { name: '', basePrice: 10 },
        { name: 'X', basePrice: -1 },
        { name: 'X', basePrice: 10.5 },
        { name: 'X', basePrice: 10, availableQuantity: -3 },
        { name: 'X', basePrice: 10, categoryId: '7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11' },
        { name: 'X', basePrice: 10, price: 10 },
      ]) {
        const res = await call<Err>('POST', '/admin/products', bad);
        expect(res.status, JSON.stringify(bad)).toBe(400);
        expect(res.body.error.code).toBe('invalid_request');
      }
      expect((await call('PATCH', `/admin/products/${created.body.id}`, {})).status).toBe(400);
      expect(
        (await call('PATCH', '/admin/products/7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11', { name: 'Y' })).status,
      ).toBe(404);
    });

    it('keeps categories a tree: moves, no cycles, unique slugs', async () => {
      const root = (await call<{ id: string }>('POST', '/admin/categories', { name: 'Esportes' })).body.id;
      const child = (
        await call<{ id: string }>('POST', '/admin/categories', { name: 'Corrida', parentId: root })
      ).body.id;
      const grandchild = (
        await call<{ id: string }>('POST', '/admin/categories', { name: 'Tênis de Corrida', parentId: child })
      ).body.id;
      expect(
        (await call<Err>('PATCH', `/admin/categories/${root}`, { parentId: grandchild })).body.error.code,
      ).toBe('category_cycle');
      expect((await call<Err>('PATCH', `/admin/categories/${root}`, { parentId: root })).status).toBe(409);
      expect(
        (await call<Err>('POST', '/admin/categories', { name: 'Outra', slug: 'corrida' })).body.error.code,
      ).toBe('duplicate');
      expect((await call('POST', '/admin/categories', { name: 'Bad', slug: 'Not A Slug' })).status).toBe(400);
      const moved = await call<{ parentId: string | null }>('PATCH', `/admin/categories/${grandchild}`, {
        parentId: root,
      });
      expect(moved.body.parentId).toBe(root);
      const tree = await call<{ items: { id: string; children: { id: string }[] }[] }>(
        'GET',
        '/store/categories',
      );
      const esportes = tree.body.items.find((c) => c.id === root)!;
      expect(esportes.children.map((c) => c.id).sort()).toEqual([child, grandchild].sort());
    });
  });

  describe('inventory admin', () => {
    it('restocks, lists low stock fewest first, and 404s unknown products', async () => {
      const a = await newProduct({ name: 'Vela Aromática', basePrice: 2990, availableQuantity: 50 });
      const b = await newProduct({ name: 'Difusor de Varetas', basePrice: 5990, availableQuantity: 3 });
      expect((await call('PUT', `/admin/inventory/${a}`, { availableQuantity: 2 })).body).toMatchObject({
        availableQuantity: 2,
        reservedQuantity: 0,
      });
      expect((await call('PUT', `/admin/inventory/${a}`, { availableQuantity: -1 })).status).toBe(400);
      expect(
        (await call('PUT', '/admin/inventory/7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11', { availableQuantity: 1 }))
          .status,
      ).toBe(404);
      const low = await call<{ items: { productId: string; availableQuantity: number }[] }>(
        'GET',
        '/admin/inventory/low-stock?limit=100',
      );
      const ours = low.body.items.filter((i) => i.productId === a || i.productId === b);
      expect(ours.map((i) => i.productId)).toEqual([a, b]);
      const levels = low.body.items.map((i) => i.availableQuantity);
      expect(levels).toEqual([...levels].sort((x, y) => x - y));
      for (const l of levels) expect(l).toBeLessThan(10);
    });
  });

  describe('reviews, payments and product stats', () => {
    it('takes one review per customer per product, from logged-in customers only', async () => {
      const p = await newProduct({ name: 'Livro de Receitas', basePrice: 5990, availableQuantity: 10 });
      const token = await customer('leitora@example.com');
      expect(
        (await call('POST', `/store/products/${p}/reviews`, { rating: 5, body: 'Ótimo!' }, token)).status,
      ).toBe(201);
      expect(
        (await call<Err>('POST', `/store/products/${p}/reviews`, { rating: 4 }, token)).body.error.code,
      ).toBe('duplicate');
      expect((await call('POST', `/store/products/${p}/reviews`, { rating: 6 }, token)).status).toBe(400);
      expect((await call('POST', `/store/products/${p}/reviews`, { rating: 0 }, token)).status).toBe(400);
      expect(
        (
          await t.server.inject({
            method: 'POST',
            url: `/store/products/${p}/reviews`,
            payload: { rating: 3 },
          })
        ).statusCode,
      ).toBe(401);
      expect(
        (
          await call(
            'POST',
            '/store/products/7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11/reviews',
            { rating: 3 },
            token,
          )
        ).status,
      ).toBe(404);
      const product = await call<{ rating: { average: number; count: number } }>(
        'GET',
        `/store/products/${p}`,
      );
      expect(product.body.rating).toEqual({ average: 5, count: 1 });
    });

    it('records every payment attempt; a refusal keeps the order pending, a success confirms it', async () => {
      const p = await newProduct({ name: 'Fone Bluetooth', basePrice: 19990, availableQuantity: 10 });
      const token = await customer('pagadora@example.com');
      const order = (
        await call<{ id: string }>('POST', '/store/orders', { items: [{ productId: p, quantity: 2 }] }, token)
      ).body;

      const refused = await call<Err>(
        'POST',
        `/store/orders/${order.id}/payments`,
        { paymentMethod: 'tok_fail_card_declined' },
        token,
      );
      expect(refused.status).toBe(402);
      expect(refused.body.error).toMatchObject({
        code: 'payment_failed',
        details: { reason: 'card_declined' },
      });
      expect(
        (await call<{ status: string }>('GET', `/store/orders/${order.id}`, undefined, token)).body.status,
      ).toBe('pending');

      const paid = await call<{
        attempt: { status: string; amount: number; providerReference: string };
        order: { status: string };
      }>('POST', `/store/orders/${order.id}/payments`, { paymentMethod: 'tok_visa' }, token);
      expect(paid.status).toBe(201);
      expect(paid.body).toMatchObject({
        attempt: { status: 'succeeded', amount: 39980 },
        order: { status: 'confirmed' },
      });
      expect(
        (await call<Err>('POST', `/store/orders/${order.id}/payments`, { paymentMethod: 'tok_visa' }, token))
          .body.error.code,
      ).toBe('order_not_payable');

      const attempts = await call<{ items: { status: string; failureReason: string | null }[] }>(
        'GET',
        `/admin/orders/${order.id}/payments`,
      );
      expect(attempts.body.items.map((a) => [a.status, a.failureReason])).toEqual([
        ['failed', 'card_declined'],
        ['succeeded', null],
      ]);
      // Someone else cannot pay (or see) it.
      const other = await customer('outra@example.com');
      expect(
        (await call('POST', `/store/orders/${order.id}/payments`, { paymentMethod: 'tok_visa' }, other))
          .status,
      ).toBe(404);
    });

    it("computes product_stats right (the document's join would multiply by reviews) and skips cancelled orders", async () => {
      const p = await newProduct({
        name: 'Mochila Cargueira 60 Litros',
        basePrice: 39990,
        availableQuantity: 100,
      });
      const buyers = await Promise.all(['c1', 'c2', 'c3'].map((n) => customer(`${n}@stats.example.com`)));
      const place = (token: string, quantity: number) =>
        call<{ id: string }>('POST', '/store/orders', { items: [{ productId: p, quantity }] }, token);
      await place(buyers[0]!, 2);
      await place(buyers[1]!, 3);
      const cancelled = await place(buyers[2]!, 7);
      await call('POST', `/admin/orders/${cancelled.body.id}/transition`, { to: 'cancelled' });
      for (const [i, rating] of [5, 4, 3].entries())
        await call('POST', `/store/products/${p}/reviews`, { rating }, buyers[i]);

      const refreshed = await call<{ durationMs: number }>('POST', '/admin/stats/refresh');
      expect(refreshed.status).toBe(200);
      const stats = await call<{
        items: {
          productId: string;
          totalOrders: number;
          totalSold: number;
          avgRating: number;
          reviewCount: number;
          popularityScore: number;
        }[];
      }>('GET', '/admin/stats/products?limit=100');
      const mine = stats.body.items.find((s) => s.productId === p)!;
      expect(mine).toMatchObject({ totalOrders: 2, totalSold: 5, avgRating: 4, reviewCount: 3 });
      expect(mine.popularityScore).toBeGreaterThan(0);
      const { rows } = await t.db.pool.query<{ indexdef: string }>(
        "SELECT indexdef FROM pg_indexes WHERE tablename = 'product_stats' AND indexdef LIKE 'CREATE UNIQUE%'",
      );
      expect(rows).toHaveLength(1);
    });
  });

  describe('inventory reconciliation', () => {
    it('finds drifted reservations and repairs them in one go', async () => {
      const p = await newProduct({ name: 'Panela de Pressão', basePrice: 15990, availableQuantity: 20 });
      await call('POST', '/store/orders', { items: [{ productId: p, quantity: 4 }] });
      expect((await t.app.services.inventory.reconcile({ fix: false })).drift).toEqual([]);
      // Simulate the drift the anchors' users report: a reservation changed outside an order.
      await t.db.pool.query('UPDATE inventory SET reserved_quantity = 9 WHERE product_id = $1', [p]);
      const report = await t.app.services.inventory.reconcile({ fix: false });
      expect(report).toEqual({
        drift: [{ productId: p, reservedQuantity: 9, expectedReserved: 4 }],
        fixed: false,
      });
      expect((await t.app.services.inventory.reconcile({ fix: true })).fixed).toBe(true);
      const { rows } = await t.db.pool.query<{ reserved_quantity: number }>(
        'SELECT reserved_quantity FROM inventory WHERE product_id = $1',
        [p],
      );
      expect(rows[0]!.reserved_quantity).toBe(4);
      expect((await t.app.services.inventory.reconcile({ fix: false })).drift).toEqual([]);
    });
  });

  describe('hot queries use the intended indexes', () => {
    beforeAll(async () => {
      await t.app.services.seed.seed({ products: 20_000, seed: 5 });
      await t.db.pool.query('ANALYZE');
    });

    const plan = async (text: string, values: unknown[], opts: { noSeqScan?: boolean } = {}) => {
      const client = await t.db.pool.connect();
      try {
        await client.query('BEGIN');
        // Small test tables make a sequential scan cheapest; this asks whether the index is usable.
        if (opts.noSeqScan) await client.query('SET LOCAL enable_seqscan = off');
        const { rows } = await client.query<{ 'QUERY PLAN': unknown }>(
          `EXPLAIN (FORMAT JSON) ${text}`,
          values,
        );
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

    it('low stock: the partial index of the document', async () => {
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
  });
});
