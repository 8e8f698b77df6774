import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestApp, type TestApp } from './app.ts';
import { readyToShip } from './helpers/delivery.ts';
import { httpClient } from './helpers/fetch.ts';

interface Variant {
  id: string;
  sku: string;
  options: Record<string, string>;
  price: number;
  availableQuantity: number;
  position: number;
}
interface ProductBody {
  id: string;
  slug: string;
  name: string;
  basePrice: number;
  availableQuantity: number;
  options: { name: string; values: string[] }[];
  variants: Variant[];
  priceRange: { min: number; max: number };
}
interface OrderBody {
  id: string;
  status: string;
  totalAmount: number;
  items: {
    productId: string;
    variantId: string;
    sku: string;
    options: Record<string, string>;
    name: string;
    quantity: number;
    unitPrice: number;
  }[];
}
interface ErrorBody {
  error: { code: string; details?: unknown };
}

describe('products with variants', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ DB_POOL_MAX: '20' });
    base = await t.server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => t?.close());

  const { admin, store } = httpClient(() => ({ base, adminKey: t.adminKey }));
  /** A camiseta in P, M, G and Azul, Preto: 6 variants, each SKU given, with `stock` units each. */
  const camiseta = async (stock: number, prefix = randomUUID().slice(0, 8).toUpperCase()) => {
    const created = await admin<ProductBody>('POST', '/admin/products', {
      name: 'Camiseta Básica Algodão',
      basePrice: 4990,
      options: [
        { name: 'Tamanho', values: ['P', 'M', 'G'] },
        { name: 'Cor', values: ['Azul', 'Preto'] },
      ],
    });
    expect(created.status).toBe(201);
    for (const v of created.body.variants) {
      const sku = `${prefix}-${v.options.Tamanho}-${v.options.Cor}`;
      expect((await admin('PATCH', `/admin/variants/${v.id}`, { sku })).status).toBe(200);
      expect(
        (await admin('PUT', `/admin/inventory/variants/${v.id}`, { availableQuantity: stock })).status,
      ).toBe(200);
    }
    return (await store<ProductBody>('GET', `/store/products/${created.body.id}`)).body;
  };
  const variantOf = (p: ProductBody, tamanho: string, cor: string) =>
    p.variants.find((v) => v.options.Tamanho === tamanho && v.options.Cor === cor)!;
  const level = async (variantId: string) =>
    (
      await t.db.pool.query<{ available_quantity: number; reserved_quantity: number }>(
        'SELECT available_quantity, reserved_quantity FROM inventory WHERE variant_id = $1',
        [variantId],
      )
    ).rows[0]!;
  const order = (items: unknown[], headers: Record<string, string> = {}) =>
    store<OrderBody & ErrorBody>('POST', '/store/orders', { items }, headers);

  it('creates one variant per combination of a 3 x 2 product, each with its own SKU, and a slug', async () => {
    const p = await camiseta(5);
    expect(p.options).toEqual([
      { name: 'Tamanho', values: ['P', 'M', 'G'] },
      { name: 'Cor', values: ['Azul', 'Preto'] },
    ]);
    expect(p.variants).toHaveLength(6);
    expect(new Set(p.variants.map((v) => v.sku)).size).toBe(6);
    expect(p.variants.map((v) => v.options)).toEqual([
      { Tamanho: 'P', Cor: 'Azul' },
      { Tamanho: 'P', Cor: 'Preto' },
      { Tamanho: 'M', Cor: 'Azul' },
      { Tamanho: 'M', Cor: 'Preto' },
      { Tamanho: 'G', Cor: 'Azul' },
      { Tamanho: 'G', Cor: 'Preto' },
    ]);
    expect(p.availableQuantity).toBe(30);
    expect(p.priceRange).toEqual({ min: 4990, max: 4990 });
    expect(p.slug).toMatch(/^camiseta-basica-algodao(-\d+)?$/);
    const bySlug = await store<ProductBody>('GET', `/store/products/by-slug/${p.slug}`);
    expect(bySlug.status).toBe(200);
    expect(bySlug.body.id).toBe(p.id);
    expect((await store<ErrorBody>('GET', '/store/products/by-slug/nao-existe')).status).toBe(404);
    // A SKU typed in the search box finds its product (as typed; an upper-case SKU in lower case too).
    const sku = p.variants[3]!.sku;
    const upper = `UP-${randomUUID().slice(0, 8)}`.toUpperCase();
    await admin('PATCH', `/admin/variants/${p.variants[4]!.id}`, { sku: upper });
    for (const typed of [sku, upper.toLowerCase()]) {
      const found = await store<{ items: { id: string }[]; total: number }>(
        'GET',
        `/store/search?q=${encodeURIComponent(typed)}`,
      );
      expect(found.status).toBe(200);
      expect(found.body.items[0]?.id).toBe(p.id);
    }

    // A variant repriced: basePrice is the lowest price, priceRange spans them.
    const g = variantOf(p, 'G', 'Preto');
    await admin('PATCH', `/admin/variants/${g.id}`, { price: 5990 });
    const after = (await store<ProductBody>('GET', `/store/products/${p.id}`)).body;
    expect(after.priceRange).toEqual({ min: 4990, max: 5990 });
    expect(after.basePrice).toBe(4990);
  });

  it('refuses a SKU a live variant has (409 duplicate naming sku) and a combination sold already', async () => {
    const p = await camiseta(1);
    const taken = p.variants[0]!.sku;
    const other = await admin<ProductBody>('POST', '/admin/products', {
      name: 'Boné',
      basePrice: 2990,
      options: [{ name: 'Cor', values: ['Azul'] }],
      variants: [{ sku: taken, options: { Cor: 'Azul' } }],
    });
    expect(other.status).toBe(409);
    expect(other.body).toMatchObject({ error: { code: 'duplicate', details: { field: 'sku' } } });
    const clash = await admin<ErrorBody>('PATCH', `/admin/variants/${p.variants[1]!.id}`, { sku: taken });
    expect(clash.status).toBe(409);
    expect(clash.body).toMatchObject({ error: { code: 'duplicate', details: { field: 'sku' } } });
    const twice = await admin<ErrorBody>('POST', `/admin/products/${p.id}/variants`, {
      options: { Tamanho: 'P', Cor: 'Azul' },
    });
    expect(twice.status).toBe(409);
    expect(twice.body).toMatchObject({ error: { code: 'duplicate', details: { field: 'options' } } });
    const unknownValue = await admin<ErrorBody>('POST', `/admin/products/${p.id}/variants`, {
      options: { Tamanho: 'GG', Cor: 'Azul' },
    });
    expect(unknownValue.status).toBe(400);
    // Nothing of the refused product was written.
    const { rows } = await t.db.pool.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM products WHERE name = 'Boné'",
    );
    expect(rows[0]!.n).toBe(0);
  });

  it('sells exactly the stock of one variant to 200 concurrent buyers; the other variants are untouched', async () => {
    const p = await camiseta(10);
    const target = variantOf(p, 'M', 'Azul');
    const results = await Promise.all(
      Array.from({ length: 200 }, () => order([{ variantId: target.id, quantity: 1 }])),
    );
    const ok = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(190);
    expect(refused[0]!.body.error).toMatchObject({
      code: 'insufficient_stock',
      details: [{ productId: p.id, variantId: target.id, sku: target.sku, requested: 1, available: 0 }],
    });
    expect(await level(target.id)).toEqual({ available_quantity: 0, reserved_quantity: 10 });
    for (const v of p.variants.filter((v) => v.id !== target.id))
      expect(await level(v.id)).toEqual({ available_quantity: 10, reserved_quantity: 0 });
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM order_items WHERE variant_id = $1',
      [target.id],
    );
    expect(rows[0]!.n).toBe(10);
  });

  it('asks for the variant of a product with several (400 variant_required), for orders and carts', async () => {
    const p = await camiseta(3);
    const res = await order([{ productId: p.id, quantity: 1 }]);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('variant_required');
    const keyed = await order([{ productId: p.id, quantity: 1 }], { 'idempotency-key': randomUUID() });
    expect(keyed.status).toBe(400);
    expect(keyed.body.error.code).toBe('variant_required');
    const cart = await store<{ id: string; sessionToken: string }>('POST', '/store/carts', {});
    const auth = { authorization: `Bearer ${cart.body.sessionToken}` };
    const add = await store<ErrorBody>(
      'POST',
      `/store/carts/${cart.body.id}/items`,
      { productId: p.id, quantity: 1 },
      auth,
    );
    expect(add.status).toBe(400);
    expect(add.body.error.code).toBe('variant_required');
    for (const v of p.variants)
      expect(await level(v.id)).toEqual({ available_quantity: 3, reserved_quantity: 0 });
  });

  it('reserves each of several variants of one product exactly, and a cart checks out per variant', async () => {
    const p = await camiseta(5);
    const [a, b] = [variantOf(p, 'P', 'Azul'), variantOf(p, 'G', 'Preto')];
    await admin('PATCH', `/admin/variants/${b.id}`, { price: 5990 });
    const res = await order([
      { variantId: a.id, quantity: 2 },
      { variantId: b.id, quantity: 1 },
      { variantId: a.id, productId: p.id, quantity: 1 },
    ]);
    expect(res.status).toBe(201);
    expect(res.body.totalAmount).toBe(3 * 4990 + 5990);
    expect(await level(a.id)).toEqual({ available_quantity: 2, reserved_quantity: 3 });
    expect(await level(b.id)).toEqual({ available_quantity: 4, reserved_quantity: 1 });
    // All or nothing: one short variant names itself, and nothing moves.
    const short = await order([
      { variantId: a.id, quantity: 1 },
      { variantId: b.id, quantity: 5 },
    ]);
    expect(short.status).toBe(409);
    expect(short.body.error.details).toEqual([
      { productId: p.id, variantId: b.id, sku: b.sku, requested: 5, available: 4 },
    ]);
    expect(await level(a.id)).toEqual({ available_quantity: 2, reserved_quantity: 3 });
    // Statistics per variant; per product, the materialized view sums them.
    const stats = await admin<{ items: { variantId: string; totalSold: number; revenue: number }[] }>(
      'GET',
      `/admin/stats/products/${p.id}/variants`,
    );
    expect(stats.body.items).toEqual([
      { variantId: a.id, sku: a.sku, totalOrders: 1, totalSold: 3, revenue: 3 * 4990 },
      { variantId: b.id, sku: b.sku, totalOrders: 1, totalSold: 1, revenue: 5990 },
    ]);
    await admin('POST', '/admin/stats/refresh');
    const perProduct = await admin<{ items: { productId: string; totalSold: number }[] }>(
      'GET',
      '/admin/stats/products?limit=100',
    );
    expect(perProduct.body.items.find((i) => i.productId === p.id)).toMatchObject({
      totalSold: 4,
      totalOrders: 1,
    });

    const cart = await store<{ id: string; sessionToken: string }>('POST', '/store/carts', {});
    const auth = { authorization: `Bearer ${cart.body.sessionToken}` };
    const m = variantOf(p, 'M', 'Preto');
    const added = await store<{ items: { variantId: string; sku: string; unitPrice: number }[] }>(
      'POST',
      `/store/carts/${cart.body.id}/items`,
      { variantId: m.id, quantity: 2 },
      auth,
    );
    expect(added.status).toBe(200);
    expect(added.body.items).toMatchObject([{ variantId: m.id, sku: m.sku, unitPrice: 4990 }]);
    await readyToShip(t, cart.body.id, cart.body.sessionToken);
    const checkout = await store<OrderBody>('POST', `/store/carts/${cart.body.id}/checkout`, {}, auth);
    expect(checkout.status).toBe(201);
    expect(checkout.body.items).toMatchObject([{ variantId: m.id, sku: m.sku, quantity: 2 }]);
    expect(await level(m.id)).toEqual({ available_quantity: 3, reserved_quantity: 2 });
  });

  it('keeps what was sold on the order line after the variant is renamed and repriced', async () => {
    const p = await camiseta(4);
    const v = variantOf(p, 'G', 'Azul');
    const placed = await order([{ variantId: v.id, quantity: 2 }], { 'idempotency-key': randomUUID() });
    expect(placed.status).toBe(201);
    const line = {
      productId: p.id,
      variantId: v.id,
      sku: v.sku,
      options: { Tamanho: 'G', Cor: 'Azul' },
      name: 'Camiseta Básica Algodão',
      quantity: 2,
      unitPrice: 4990,
    };
    expect(placed.body.items).toMatchObject([line]);
    await admin('PATCH', `/admin/variants/${v.id}`, { sku: `${v.sku}-NOVO`, price: 6990 });
    await admin('PATCH', `/admin/products/${p.id}`, { name: 'Camiseta Premium' });
    const again = await admin<OrderBody>('GET', `/admin/orders/${placed.body.id}`);
    expect(again.body.items).toMatchObject([line]);
    expect(again.body.totalAmount).toBe(2 * 4990);
    // The slug stays when the product is renamed.
    expect((await store<ProductBody>('GET', `/store/products/${p.id}`)).body.slug).toBe(p.slug);
  });

  it('returns the stock of each variant when an order is cancelled or expires', async () => {
    const p = await camiseta(6);
    const [a, b] = [variantOf(p, 'P', 'Preto'), variantOf(p, 'M', 'Azul')];
    const placed = await order([
      { variantId: a.id, quantity: 2 },
      { variantId: b.id, quantity: 3 },
    ]);
    expect(placed.status).toBe(201);
    const cancelled = await admin('POST', `/admin/orders/${placed.body.id}/transition`, { to: 'cancelled' });
    expect(cancelled.status).toBe(200);
    expect(await level(a.id)).toEqual({ available_quantity: 6, reserved_quantity: 0 });
    expect(await level(b.id)).toEqual({ available_quantity: 6, reserved_quantity: 0 });

    const pending = await order([{ variantId: a.id, quantity: 4 }]);
    expect(pending.status).toBe(201);
    await t.db.pool.query("UPDATE orders SET created_at = NOW() - interval '2 hours' WHERE id = $1", [
      pending.body.id,
    ]);
    expect(await t.app.services.orders.expirePending({ ttlMinutes: 30 })).toBeGreaterThanOrEqual(1);
    expect(await level(a.id)).toEqual({ available_quantity: 6, reserved_quantity: 0 });
    // Reconcile agrees per variant.
    const { drift } = await t.app.services.inventory.reconcile({ fix: false });
    expect(drift.filter((d) => d.productId === p.id)).toEqual([]);
  });

  it('restocks per variant; the product route works for a one-variant product only', async () => {
    const one = await admin<ProductBody>('POST', '/admin/products', {
      name: 'Caneca Esmaltada',
      basePrice: 3990,
      availableQuantity: 2,
    });
    expect(one.body.variants).toMatchObject([{ id: one.body.id, options: {}, price: 3990 }]);
    const put = await admin<{ availableQuantity: number; variants: unknown[] }>(
      'PUT',
      `/admin/inventory/${one.body.id}`,
      { availableQuantity: 7 },
    );
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({
      availableQuantity: 7,
      variants: [{ variantId: one.body.id, availableQuantity: 7 }],
    });
    // Ordered as before variants, with its product id.
    const placed = await order([{ productId: one.body.id, quantity: 2 }]);
    expect(placed.status).toBe(201);
    expect(placed.body.items).toMatchObject([
      { productId: one.body.id, variantId: one.body.id, unitPrice: 3990 },
    ]);
    // Repricing a one-variant product reprices its variant.
    await admin('PATCH', `/admin/products/${one.body.id}`, { basePrice: 4490 });
    const repriced = (await store<ProductBody>('GET', `/store/products/${one.body.id}`)).body;
    expect(repriced.variants[0]!.price).toBe(4490);

    const p = await camiseta(1);
    const refused = await admin<ErrorBody>('PUT', `/admin/inventory/${p.id}`, { availableQuantity: 9 });
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('variant_required');
    const v = p.variants[0]!;
    const ok = await admin<{ availableQuantity: number }>('PUT', `/admin/inventory/variants/${v.id}`, {
      availableQuantity: 9,
    });
    expect(ok.status).toBe(200);
    expect(ok.body.availableQuantity).toBe(9 + 5);
    expect(
      (await admin('PUT', `/admin/inventory/variants/${randomUUID()}`, { availableQuantity: 1 })).status,
    ).toBe(404);
  });

  it('soft-deletes a variant: no longer sold, kept on placed orders, a product keeps one', async () => {
    const p = await camiseta(2);
    const v = variantOf(p, 'P', 'Azul');
    const placed = await order([{ variantId: v.id, quantity: 1 }]);
    expect(placed.status).toBe(201);
    expect((await admin('DELETE', `/admin/variants/${v.id}`)).status).toBe(204);
    const after = (await store<ProductBody>('GET', `/store/products/${p.id}`)).body;
    expect(after.variants).toHaveLength(5);
    expect(after.availableQuantity).toBe(10);
    const gone = await order([{ variantId: v.id, quantity: 1 }]);
    expect(gone.status).toBe(400);
    expect((await admin<OrderBody>('GET', `/admin/orders/${placed.body.id}`)).body.items).toMatchObject([
      { variantId: v.id, sku: v.sku },
    ]);
    // Its SKU can be given again.
    const reuse = await admin<ProductBody>('POST', `/admin/products/${p.id}/variants`, {
      sku: v.sku,
      options: { Tamanho: 'P', Cor: 'Azul' },
      availableQuantity: 1,
    });
    expect(reuse.status).toBe(201);
    const one = await admin<ProductBody>('POST', '/admin/products', { name: 'Livro', basePrice: 5990 });
    const last = await admin<ErrorBody>('DELETE', `/admin/variants/${one.body.id}`);
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('last_variant');
  });
});
