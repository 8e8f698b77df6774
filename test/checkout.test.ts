/**
 * The order-placement use case: which way each order is written (one statement, one statement
 * claiming the key, a transaction), and a refusal replayed for its key exactly as first answered.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';

describe('checkout places every order, choosing its way', () => {
  let t: TestApp;
  let one: string;
  let other: string;
  beforeAll(async () => {
    t = await createTestApp();
    const make = async (name: string, availableQuantity: number) =>
      (await t.app.services.catalog.createProduct({ name, basePrice: 4990, availableQuantity })).id;
    one = await make('Cuia de Porongo', 1);
    other = await make('Bomba de Chimarrão', 50);
  });
  afterAll(async () => t?.close());

  it('writes one product in one statement, claiming the key when there is one; else a transaction', () => {
    const checkout = t.app.services.checkout;
    const lines = (...ids: string[]) => ({ lines: ids.map((productId) => ({ productId, quantity: 1 })) });
    expect(checkout.wayOf(lines(one), false)).toBe('statement');
    expect(checkout.wayOf(lines(one), true)).toBe('claiming');
    // Two lines of one product are one product.
    expect(checkout.wayOf(lines(one, one), true)).toBe('claiming');
    expect(checkout.wayOf(lines(one, other), false)).toBe('transaction');
    expect(checkout.wayOf(lines(one, other), true)).toBe('transaction');
    expect(checkout.wayOf({ cartId: randomUUID() }, false)).toBe('transaction');
  });

  it('answers a retry of a refused keyed order with the first refusal, marked as a replay, and writes nothing', async () => {
    const key = randomUUID();
    const order = (quantity: number) =>
      t.server.inject({
        method: 'POST',
        url: '/store/orders',
        headers: { 'idempotency-key': key },
        payload: { items: [{ productId: one, quantity }] },
      });
    const first = await order(2); // one unit in stock
    expect(first.statusCode).toBe(409);
    expect(first.json()).toMatchObject({ error: { code: 'insufficient_stock' } });
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    const again = await order(2);
    expect(again.statusCode).toBe(409);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM order_items WHERE product_id = $1',
      [one],
    );
    expect(rows[0]!.n).toBe(0);
  });
});
