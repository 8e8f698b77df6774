import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';

describe('inventory', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, newProduct } = api(() => t);

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

  it('finds drifted reservations and repairs them in one go', async () => {
    const p = await newProduct({ name: 'Panela de Pressão', basePrice: 15990, availableQuantity: 20 });
    await call('POST', '/store/orders', { items: [{ productId: p, quantity: 4 }] });
    expect((await t.app.services.inventory.reconcile({ fix: false })).drift).toEqual([]);
    // Simulate the drift the anchors' users report: a reservation changed outside an order.
    await t.db.pool.query('UPDATE inventory SET reserved_quantity = 9 WHERE product_id = $1', [p]);
    const report = await t.app.services.inventory.reconcile({ fix: false });
    expect(report).toEqual({
      drift: [{ productId: p, variantId: p, reservedQuantity: 9, expectedReserved: 4 }],
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
