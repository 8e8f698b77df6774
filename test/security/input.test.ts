/**
 * Attacks on the input validation that used to end in a 500: a 20,000-level nested customization
 * (JSON.stringify overflowed the stack inside validation) and a cursor carrying an impossible date
 * (it reached PostgreSQL). Both are 400 now, with nothing written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeCursor } from '../../src/platform/cursor.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';

/** JSON text nested `levels` deep (as text: JSON.stringify itself overflows at 20,000 levels). */
const deepText = (levels: number): string => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
const deep = (levels: number): unknown => JSON.parse(deepText(levels));
const JSON_TYPE = { 'content-type': 'application/json' };

describe('malformed input is a 400, never a 500', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, newProduct } = api(() => t);
  const orderCount = async () =>
    (await t.db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM orders')).rows[0]!.n;

  it('refuses a 20,000-level nested customization on orders and carts', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const before = await orderCount();
    const body = `{"items":[{"productId":"${productId}","quantity":1,"customization":{"note":${deepText(20_000)}}}]}`;
    for (const headers of [JSON_TYPE, { ...JSON_TYPE, 'idempotency-key': 'deep-1' }]) {
      const res = await call<Err>('POST', '/store/orders', body, null, headers);
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    expect(await orderCount()).toBe(before);
    const cart = await t.server.inject({ method: 'POST', url: '/store/carts' });
    const { id, sessionToken } = cart.json<{ id: string; sessionToken: string }>();
    const line = await call<Err>(
      'POST',
      `/store/carts/${id}/items`,
      `{"productId":"${productId}","quantity":1,"customization":{"note":${deepText(20_000)}}}`,
      sessionToken,
      JSON_TYPE,
    );
    expect(line.status).toBe(400);
    // Nine levels is one too many; eight pass.
    expect(
      (
        await call(
          'POST',
          '/store/orders',
          { items: [{ productId, quantity: 1, customization: { a: deep(8) } }] },
          null,
        )
      ).status,
    ).toBe(400);
    expect(
      (
        await call(
          'POST',
          '/store/orders',
          { items: [{ productId, quantity: 1, customization: { a: deep(6) } }] },
          null,
        )
      ).status,
    ).toBe(201);
  });

  it('refuses a cursor with an impossible date, and a deep customization query', async () => {
    const cursor = encodeCursor({
      createdAt: '2020-13-45 99:99:99+00',
      id: '8f6f2a8e-3c1b-4d0a-9a57-2f1d8c7e6b5a',
    });
    for (const url of [`/store/products?cursor=${cursor}`, `/admin/orders?cursor=${cursor}`]) {
      const res = await call<Err>('GET', url);
      expect(res.status, url).toBe(400);
      expect(res.body.error.code).toBe('invalid_request');
    }
    const q = encodeURIComponent(`{"a":${deepText(500)}}`);
    expect((await call('GET', `/admin/order-items?customization=${q}`)).status).toBe(400);
  });
});
