import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';

describe('product statistics (cross-module: orders, reviews, stats)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  it("computes product_stats right (the original design's join would multiply by reviews) and skips cancelled orders", async () => {
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
