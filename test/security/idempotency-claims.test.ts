/**
 * Attack (or a burst): a claim was taken over once it was STALE_CLAIM_SECONDS old, even while its
 * first request still ran, so an order could be placed twice; and a claim whose holder died blocked
 * retries for a minute. Now the claim lives exactly as long as its holder's transaction: never
 * taken over while the holder is alive, free the moment it is gone.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';

describe('idempotency claims follow their holder', () => {
  let t: TestApp;
  let token: string;
  beforeAll(async () => {
    t = await createTestApp({ DB_POOL_MAX: '10' });
    token = (await t.server.inject({ method: 'POST', url: '/store/carts' })).json<{ sessionToken: string }>()
      .sessionToken;
  });
  afterAll(async () => t?.close());
  const { newProduct } = api(() => t);
  const order = (productId: string, key: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/orders',
      headers: { authorization: `Bearer ${token}`, 'idempotency-key': key },
      payload: { items: [{ productId, quantity: 1 }] },
    });
  const ordersOf = async (productId: string) =>
    (
      await t.db.pool.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM order_items WHERE product_id = $1',
        [productId],
      )
    ).rows[0]!.n;

  /** Holds the product's stock row, so that an order of it stops mid-transaction, claim held. */
  async function holdStock(productId: string) {
    const client = await t.db.pool.connect();
    await client.query('BEGIN');
    await client.query('SELECT 1 FROM inventory WHERE product_id = $1 FOR UPDATE', [productId]);
    return async () => {
      await client.query('COMMIT');
      client.release();
    };
  }
  const waitingBackends = async () =>
    (
      await t.db.pool.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
      )
    ).rows;

  it('never takes over a claim whose holder is alive, however long it runs: one order', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const key = randomUUID();
    const release = await holdStock(productId);
    const first = order(productId, key);
    await eventually(async () => expect((await waitingBackends()).length).toBe(1));
    // The duplicate waits on the live claim instead of running again.
    const second = order(productId, key);
    await eventually(async () => expect((await waitingBackends()).length).toBe(2));
    await release();
    const [a, b] = await Promise.all([first, second]);
    expect([a.statusCode, b.statusCode]).toEqual([201, 201]);
    expect(b.headers['idempotent-replayed']).toBe('true');
    expect(b.json<{ id: string }>().id).toBe(a.json<{ id: string }>().id);
    expect(await ordersOf(productId)).toBe(1);
  });

  it('lets a retry run at once when the holder is gone (its connection killed mid-order)', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const key = randomUUID();
    const release = await holdStock(productId);
    const first = order(productId, key);
    await eventually(async () => expect((await waitingBackends()).length).toBe(1));
    const [holder] = await waitingBackends();
    await t.db.pool.query('SELECT pg_terminate_backend($1)', [holder!.pid]);
    expect((await first).statusCode).toBeGreaterThanOrEqual(500); // the holder died: 503, not an order
    await release();
    const started = Date.now();
    const retry = await order(productId, key);
    expect(retry.statusCode).toBe(201);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(await ordersOf(productId)).toBe(1);
  });
});
