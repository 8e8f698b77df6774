/**
 * Attack: hoard stock by never paying. Unpaid orders used to keep their reservation for ever, so a
 * guest could reserve every unit. Now pending orders expire after PENDING_ORDER_TTL_MINUTES (their
 * stock comes back, through the status machine), and one caller may hold only so many at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';

describe('stock cannot be hoarded', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      MAX_PENDING_ORDERS_PER_SESSION: '3',
      MAX_PENDING_ORDERS_PER_ADDRESS: '5',
      PENDING_ORDER_TTL_MINUTES: '30',
    });
  });
  afterAll(async () => t?.close());
  const { call, newProduct } = api(() => t);
  const order = (productId: string, from: string, token?: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/orders',
      remoteAddress: from,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: { items: [{ productId, quantity: 1 }] },
    });

  it('caps the unpaid orders of one guest session (409) and of one address (429)', async () => {
    const productId = await newProduct({ availableQuantity: 1000 });
    const first = await order(productId, '198.51.100.1');
    expect(first.statusCode).toBe(201);
    const token = first.json<{ sessionToken: string }>().sessionToken;
    expect((await order(productId, '198.51.100.1', token)).statusCode).toBe(201);
    expect((await order(productId, '198.51.100.1', token)).statusCode).toBe(201);
    const capped = await order(productId, '198.51.100.1', token);
    expect(capped.statusCode).toBe(409);
    expect(capped.json<Err>().error.code).toBe('too_many_pending_orders');

    // New sessions from the same address do not help past the address cap (5 orders here).
    const statuses: number[] = [];
    for (let i = 0; i < 100; i++) statuses.push((await order(productId, '198.51.100.1')).statusCode);
    expect(statuses.filter((s) => s === 201)).toHaveLength(2); // 3 placed above, 2 more now
    expect(statuses.filter((s) => s === 429)).toHaveLength(98);
    const { rows } = await t.db.pool.query<{ reserved: number }>(
      'SELECT reserved_quantity AS reserved FROM inventory WHERE product_id = $1',
      [productId],
    );
    expect(rows[0]!.reserved).toBe(5);
  });

  it('replays a retry of an order already placed, even when it reached the cap', async () => {
    const productId = await newProduct({ availableQuantity: 100 });
    const cart = await t.server.inject({
      method: 'POST',
      url: '/store/carts',
      remoteAddress: '198.51.100.5',
    });
    const token = cart.json<{ sessionToken: string }>().sessionToken;
    const keyed = (key: string) =>
      t.server.inject({
        method: 'POST',
        url: '/store/orders',
        remoteAddress: '198.51.100.5',
        headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
        payload: { items: [{ productId, quantity: 1 }] },
      });
    for (const key of ['k-1', 'k-2', 'k-3']) expect((await keyed(key)).statusCode).toBe(201);
    // The session holds 3 unpaid orders (the cap): the third one's retry is its answer again...
    const retry = await keyed('k-3');
    expect(retry.statusCode).toBe(201);
    expect(retry.headers['idempotent-replayed']).toBe('true');
    // ...while a new order is refused.
    expect((await keyed('k-4')).statusCode).toBe(409);
  });

  it('returns the stock of an unpaid order after the TTL, through the status machine', async () => {
    const productId = await newProduct({ availableQuantity: 2 });
    const placed = await order(productId, '198.51.100.2');
    expect(placed.statusCode).toBe(201);
    const id = placed.json<{ id: string }>().id;
    expect(
      (await call<{ availableQuantity: number }>('GET', `/store/products/${productId}`)).body
        .availableQuantity,
    ).toBe(1);
    // The order is 31 minutes old now.
    await t.db.pool.query("UPDATE orders SET created_at = NOW() - INTERVAL '31 minutes' WHERE id = $1", [id]);
    await t.app.worker.start();
    await eventually(
      async () => {
        const o = await call<{ status: string }>('GET', `/admin/orders/${id}`);
        expect(o.body.status).toBe('cancelled');
      },
      { timeoutMs: 15_000 },
    );
    const page = await call<{ availableQuantity: number }>('GET', `/store/products/${productId}`);
    expect(page.body.availableQuantity).toBe(2);
    const { rows } = await t.db.pool.query<{ n: number }>(
      `SELECT COUNT(*)::int AS n FROM outbox WHERE event_type = 'order.status_changed' AND aggregate_id = $1`,
      [id],
    );
    expect(rows[0]!.n).toBe(1);
  });

  it('leaves a young unpaid order alone', async () => {
    const productId = await newProduct({ availableQuantity: 1 });
    const placed = await order(productId, '198.51.100.3');
    const expired = await t.app.services.orders.expirePending({ ttlMinutes: 30 });
    expect(expired).toBe(0);
    const o = await call<{ status: string }>('GET', `/admin/orders/${placed.json<{ id: string }>().id}`);
    expect(o.body.status).toBe('pending');
  });
});
