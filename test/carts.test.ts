import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { readyToShip } from './helpers/delivery.ts';

describe('carts and checkout', () => {
  let t: TestApp;
  let productA: string;
  let productB: string;
  beforeAll(async () => {
    // The PostgreSQL session store here; the session-store contract suite covers the others.
    t = await createTestApp({ SESSION_STORE: 'postgres' });
    productA = (
      await t.app.services.catalog.createProduct({
        name: 'Tênis de Corrida Azul',
        basePrice: 29990,
        availableQuantity: 5,
      })
    ).id;
    productB = (
      await t.app.services.catalog.createProduct({
        name: 'Meia Esportiva',
        basePrice: 1990,
        availableQuantity: 100,
      })
    ).id;
  });
  afterAll(async () => t?.close());
  const { request: call } = api(() => t);

  it('removes lines, keeps the cart alive on each change, and holds at most 100 lines even under concurrent adds', async () => {
    const created = await call<{ id: string; sessionToken: string; expiresAt: string }>(
      'POST',
      '/store/carts',
    );
    const { id, sessionToken: token } = created.body;
    // An old expiry, so that the move a change makes is visible.
    await t.db.pool.query("UPDATE carts SET expires_at = NOW() + INTERVAL '1 hour' WHERE id = $1", [id]);
    const added = await call<{ items: { id: string }[]; expiresAt: string }>(
      'POST',
      `/store/carts/${id}/items`,
      {
        token,
        body: { productId: productB, quantity: 1 },
      },
    );
    expect(new Date(added.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 24 * 3600_000);
    // A refused change moves nothing.
    await t.db.pool.query("UPDATE carts SET expires_at = NOW() + INTERVAL '1 hour' WHERE id = $1", [id]);
    const missing = '7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11';
    expect((await call('DELETE', `/store/carts/${id}/items/${missing}`, { token })).status).toBe(404);
    const { rows } = await t.db.pool.query<{ soon: boolean }>(
      "SELECT expires_at < NOW() + INTERVAL '2 hours' AS soon FROM carts WHERE id = $1",
      [id],
    );
    expect(rows[0]!.soon).toBe(true);
    const removed = await call<{ items: unknown[]; expiresAt: string }>(
      'DELETE',
      `/store/carts/${id}/items/${added.body.items[0]!.id}`,
      { token },
    );
    expect(removed.status).toBe(200);
    expect(removed.body.items).toEqual([]);
    expect(new Date(removed.body.expiresAt).getTime()).toBeGreaterThan(Date.now() + 24 * 3600_000);

    // 110 adds at once, 10 at a time: exactly 100 lines, the rest 409 cart_full.
    const statuses: number[] = [];
    for (let i = 0; i < 110; i += 10) {
      const batch = await Promise.all(
        Array.from({ length: 10 }, () =>
          call<{ error?: { code: string } }>('POST', `/store/carts/${id}/items`, {
            token,
            body: { productId: productB, quantity: 1 },
          }),
        ),
      );
      for (const r of batch) {
        statuses.push(r.status);
        if (r.status !== 200) expect(r.body.error?.code).toBe('cart_full');
      }
    }
    expect(statuses.filter((s) => s === 200)).toHaveLength(100);
    const { rows: lines } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM cart_items WHERE cart_id = $1',
      [id],
    );
    expect(lines[0]!.n).toBe(100);
  });

  it('runs a guest cart: lines, totals, changes, checkout into an order, once', async () => {
    const created = await call<{ id: string; sessionToken: string; items: unknown[] }>(
      'POST',
      '/store/carts',
    );
    expect(created.status).toBe(201);
    expect(created.cookie).toMatch(/^sid=/);
    const { id, sessionToken: token } = created.body;

    let cart = await call<{
      items: { id: string; quantity: number }[];
      totalAmount: number;
      itemCount: number;
    }>('POST', `/store/carts/${id}/items`, {
      token,
      body: { productId: productA, quantity: 1, customization: { size: '42' } },
    });
    expect(cart.status).toBe(200);
    cart = await call('POST', `/store/carts/${id}/items`, {
      token,
      body: { productId: productB, quantity: 3 },
    });
    expect(cart.body).toMatchObject({ totalAmount: 29990 + 3 * 1990, itemCount: 4 });
    const lineB = cart.body.items[1]!.id;
    cart = await call('PATCH', `/store/carts/${id}/items/${lineB}`, { token, body: { quantity: 2 } });
    expect(cart.body.totalAmount).toBe(29990 + 2 * 1990);

    expect(
      (await call('POST', `/store/carts/${id}/items`, { token, body: { productId: productB, quantity: 0 } }))
        .status,
    ).toBe(400);
    expect(
      (
        await call('POST', `/store/carts/${id}/items`, {
          token,
          body: { productId: '7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11', quantity: 1 },
        })
      ).status,
    ).toBe(400);

    // Another session cannot see or change it.
    const other = await call<{ sessionToken: string }>('POST', '/store/carts');
    expect((await call('GET', `/store/carts/${id}`, { token: other.body.sessionToken })).status).toBe(404);
    expect(
      (await call('POST', `/store/carts/${id}/checkout`, { token: other.body.sessionToken })).status,
    ).toBe(404);

    await readyToShip(t, id, token);
    const checkout = await call<{ id: string; totalAmount: number; items: { customization: unknown }[] }>(
      'POST',
      `/store/carts/${id}/checkout`,
      {
        token,
        headers: { 'idempotency-key': 'cart-checkout-1' },
      },
    );
    expect(checkout.status).toBe(201);
    expect(checkout.body.totalAmount).toBe(29990 + 2 * 1990);
    expect(checkout.body.items[0]!.customization).toEqual({ size: '42' });
    const replay = await call<{ id: string }>('POST', `/store/carts/${id}/checkout`, {
      token,
      headers: { 'idempotency-key': 'cart-checkout-1' },
    });
    expect(replay.body.id).toBe(checkout.body.id);
    const again = await call<{ error: { code: string } }>('POST', `/store/carts/${id}/checkout`, { token });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('cart_closed');

    const closed = await call<{ status: string; orderId: string }>('GET', `/store/carts/${id}`, { token });
    expect(closed.body).toMatchObject({ status: 'checked_out', orderId: checkout.body.id });
    expect((await call('GET', `/store/orders/${checkout.body.id}`, { token })).status).toBe(200);
  });

  it('refuses checkout of a cart whose lines exceed the stock, changing nothing', async () => {
    const { body } = await call<{ id: string; sessionToken: string }>('POST', '/store/carts');
    await call('POST', `/store/carts/${body.id}/items`, {
      token: body.sessionToken,
      body: { productId: productA, quantity: 3 },
    });
    await call('POST', `/store/carts/${body.id}/items`, {
      token: body.sessionToken,
      body: { productId: productA, quantity: 3 },
    });
    await readyToShip(t, body.id, body.sessionToken);
    const res = await call<{ error: { code: string; details: unknown } }>(
      'POST',
      `/store/carts/${body.id}/checkout`,
      { token: body.sessionToken },
    );
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'insufficient_stock',
      details: [{ productId: productA, requested: 6, available: 4 }],
    });
    expect(
      (await call<{ status: string }>('GET', `/store/carts/${body.id}`, { token: body.sessionToken })).body
        .status,
    ).toBe('active');
  });

  it('gives a logged-in customer their own cart and order list', async () => {
    await call('POST', '/store/customers', {
      body: { email: 'ana@example.com', password: 'senha-forte-3', name: 'Ana' },
    });
    const login = await call<{ sessionToken: string }>('POST', '/store/auth/login', {
      body: { email: 'ana@example.com', password: 'senha-forte-3' },
    });
    const token = login.body.sessionToken;
    const cart = await call<{ id: string; sessionToken?: string }>('POST', '/store/carts', { token });
    expect(cart.body.sessionToken).toBeUndefined();
    await call('POST', `/store/carts/${cart.body.id}/items`, {
      token,
      body: { productId: productB, quantity: 1 },
    });
    await readyToShip(t, cart.body.id, token);
    const order = await call<{ id: string; customerId: string }>(
      'POST',
      `/store/carts/${cart.body.id}/checkout`,
      { token },
    );
    expect(order.status).toBe(201);
    const mine = await call<{ items: { id: string }[] }>('GET', '/store/orders', { token });
    expect(mine.body.items.map((o) => o.id)).toEqual([order.body.id]);
    // A fresh login (new session) still sees the customer's orders.
    const login2 = await call<{ sessionToken: string }>('POST', '/store/auth/login', {
      body: { email: 'ana@example.com', password: 'senha-forte-3' },
    });
    expect(
      (await call('GET', `/store/orders/${order.body.id}`, { token: login2.body.sessionToken })).status,
    ).toBe(200);
    expect((await call('GET', '/store/orders')).status).toBe(401);
  });
});
