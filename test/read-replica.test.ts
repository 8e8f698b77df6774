/**
 * With DATABASE_READ_URL set, what the cache keeps comes from the primary: a replica that lags
 * (here: a second database that never receives the primary's writes, the worst lag there is) must
 * not put stale stock into a product page that lives in the cache for up to an hour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { api } from './helpers/api.ts';

describe('a lagging read replica', () => {
  let replica: TestDatabase;
  let t: TestApp;
  beforeAll(async () => {
    replica = await createTestDatabase();
    t = await createTestApp({ DATABASE_READ_URL: replica.url });
  });
  afterAll(async () => {
    await t?.close();
    await replica?.drop();
  });
  const { call, newProduct, order } = api(() => t);

  it('never fills the product cache from the replica: a page read after a write shows the write', async () => {
    const id = await newProduct({ name: 'Moedor de Café Manual', availableQuantity: 5 });
    // The replica has not seen the product at all, yet its page is there: read from the primary.
    const first = await call<{ availableQuantity: number }>('GET', `/store/products/${id}`, undefined, null);
    expect(first.status).toBe(200);
    expect(first.body.availableQuantity).toBe(5);

    // A stock change evicts the page; the next read reloads it, from the primary again.
    expect((await order([{ productId: id, quantity: 2 }])).status).toBe(201);
    const after = await call<{ availableQuantity: number }>('GET', `/store/products/${id}`, undefined, null);
    expect(after.body.availableQuantity).toBe(3);
    const { rowCount } = await replica.pool.query('SELECT 1 FROM products WHERE id = $1', [id]);
    expect(rowCount).toBe(0); // the replica really is behind
  });
});
