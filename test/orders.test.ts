import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { httpClient } from './helpers/fetch.ts';
import { defaultSku } from '../src/modules/catalog/variants.model.ts';

interface OrderBody {
  id: string;
  status: string;
  totalAmount: number;
  currency: string;
  items: { productId: string; quantity: number; unitPrice: number; customization: unknown }[];
  sessionToken?: string;
}
interface ErrorBody {
  error: { code: string; details?: unknown };
}

describe('orders', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ DB_POOL_MAX: '20' });
    base = await t.server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => t?.close());

  const { admin, store } = httpClient(() => ({ base, adminKey: t.adminKey }));
  const product = async (stock: number, basePrice = 4990, name = 'Caneca Personalizada') =>
    (await admin<{ id: string }>('POST', '/admin/products', { name, basePrice, availableQuantity: stock }))
      .body.id;
  const level = async (id: string) =>
    (
      await t.db.pool.query<{ available_quantity: number; reserved_quantity: number }>(
        'SELECT available_quantity, reserved_quantity FROM inventory WHERE product_id = $1',
        [id],
      )
    ).rows[0]!;
  const count = async (sql: string, params: unknown[] = []) =>
    (await t.db.pool.query<{ n: number }>(sql, params)).rows[0]!.n;
  const order = (
    items: { productId: string; quantity: number; customization?: unknown }[],
    headers: Record<string, string> = {},
  ) => store<OrderBody & ErrorBody>('POST', '/store/orders', { items }, headers);

  it('sells exactly the stock to far more concurrent buyers than units: no oversell', async () => {
    const id = await product(10);
    const results = await Promise.all(
      Array.from({ length: 200 }, () => order([{ productId: id, quantity: 1 }])),
    );
    const ok = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    expect(ok).toHaveLength(10);
    expect(refused).toHaveLength(190);
    for (const r of refused) {
      expect(r.body.error.code).toBe('insufficient_stock');
      expect(r.body.error.details).toEqual([
        { productId: id, variantId: id, sku: defaultSku(id, {}), requested: 1, available: 0 },
      ]);
    }
    expect(await level(id)).toEqual({ available_quantity: 0, reserved_quantity: 10 });
    expect(
      await count('SELECT COUNT(DISTINCT order_id) AS n FROM order_items WHERE product_id = $1', [id]),
    ).toBe(10);
    expect(
      await count('SELECT COALESCE(SUM(quantity), 0) AS n FROM order_items WHERE product_id = $1', [id]),
    ).toBe(10);
    expect(new Set(ok.map((r) => r.body.id)).size).toBe(10);
  });

  it('never deadlocks two multi-item orders that name the same products in opposite order', async () => {
    const [a, b, c] = [await product(1000), await product(1000), await product(1000)];
    const results = await Promise.all(
      Array.from({ length: 60 }, (_, i) =>
        order(
          i % 2 === 0
            ? [
                { productId: a, quantity: 1 },
                { productId: b, quantity: 2 },
                { productId: c, quantity: 1 },
              ]
            : [
                { productId: c, quantity: 1 },
                { productId: b, quantity: 2 },
                { productId: a, quantity: 1 },
              ],
        ),
      ),
    );
    expect(results.map((r) => r.status)).toEqual(Array(60).fill(201));
    expect(await level(a)).toEqual({ available_quantity: 940, reserved_quantity: 60 });
    expect(await level(b)).toEqual({ available_quantity: 880, reserved_quantity: 120 });
  });

  it('captures prices, computes the total on the server and keeps customization as JSONB', async () => {
    const [a, b] = [await product(5, 2990), await product(5, 1500)];
    const res = await order([
      { productId: a, quantity: 2, customization: { engraving: 'Ana & João', font: 'serif' } },
      { productId: b, quantity: 1 },
    ]);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'pending', totalAmount: 2 * 2990 + 1500, currency: 'BRL' });
    expect(res.body.items).toEqual([
      expect.objectContaining({
        productId: a,
        quantity: 2,
        unitPrice: 2990,
        customization: { engraving: 'Ana & João', font: 'serif' },
      }),
      expect.objectContaining({ productId: b, quantity: 1, unitPrice: 1500, customization: null }),
    ]);
    // A later price change does not touch the order.
    await admin('PATCH', `/admin/products/${a}`, { basePrice: 9990 });
    const again = await store<OrderBody>('GET', `/store/orders/${res.body.id}`, undefined, {
      authorization: `Bearer ${res.body.sessionToken}`,
    });
    expect(again.body.totalAmount).toBe(2 * 2990 + 1500);

    const found = await admin<{ items: { orderId: string }[] }>(
      'GET',
      `/admin/order-items?customization=${encodeURIComponent('{"engraving":"Ana & João"}')}`,
    );
    expect(found.body.items.map((i) => i.orderId)).toEqual([res.body.id]);
  });

  it('sums lines of one product before the check: two lines of 1 with 1 unit left is short', async () => {
    const id = await product(1);
    const before = await count('SELECT COUNT(*) AS n FROM orders');
    const res = await order([
      { productId: id, quantity: 1 },
      { productId: id, quantity: 1 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body.error).toMatchObject({
      code: 'insufficient_stock',
      details: [{ productId: id, requested: 2, available: 1 }],
    });
    expect(await level(id)).toEqual({ available_quantity: 1, reserved_quantity: 0 });
    expect(await count('SELECT COUNT(*) AS n FROM orders')).toBe(before);
  });

  it('is all or nothing: one short line changes nothing and is named', async () => {
    const [plenty, scarce] = [await product(50), await product(2)];
    const before = await count('SELECT COUNT(*) AS n FROM orders');
    const res = await order([
      { productId: plenty, quantity: 5 },
      { productId: scarce, quantity: 3 },
    ]);
    expect(res.status).toBe(409);
    expect(res.body.error.details).toEqual([
      { productId: scarce, variantId: scarce, sku: defaultSku(scarce, {}), requested: 3, available: 2 },
    ]);
    expect(await level(plenty)).toEqual({ available_quantity: 50, reserved_quantity: 0 });
    expect(await level(scarce)).toEqual({ available_quantity: 2, reserved_quantity: 0 });
    expect(await count('SELECT COUNT(*) AS n FROM orders')).toBe(before);
  });

  it('refuses bad input with a 4xx and a code, writing nothing', async () => {
    const id = await product(5);
    const before = await count('SELECT COUNT(*) AS n FROM orders');
    const cases: [unknown, number, string][] = [
      [{ items: [{ productId: id, quantity: 0 }] }, 400, 'invalid_request'],
      [{ items: [{ productId: id, quantity: -1 }] }, 400, 'invalid_request'],
      [{ items: [{ productId: id, quantity: 1.5 }] }, 400, 'invalid_request'],
      [{ items: [{ productId: id, quantity: 1_000_000_000 }] }, 400, 'invalid_request'],
      [{ items: [] }, 400, 'invalid_request'],
      [
        { items: Array.from({ length: 101 }, () => ({ productId: id, quantity: 1 })) },
        400,
        'invalid_request',
      ],
      [{ items: [{ productId: 'nope', quantity: 1 }] }, 400, 'invalid_request'],
      [
        { items: [{ productId: '7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11', quantity: 1 }] },
        400,
        'invalid_request',
      ],
      [
        { items: [{ productId: id, quantity: 1, customization: { note: 'x'.repeat(5000) } }] },
        400,
        'invalid_request',
      ],
      [{ items: [{ productId: id, quantity: 1 }], total: 1 }, 400, 'invalid_request'],
      ['not json at all', 400, 'invalid_request'],
    ];
    for (const [body, status, code] of cases) {
      const res = await fetch(`${base}/store/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: typeof body === 'string' ? body : JSON.stringify(body),
      });
      expect(res.status, JSON.stringify(body).slice(0, 80)).toBe(status);
      expect(((await res.json()) as ErrorBody).error.code).toBe(code);
    }
    expect(await count('SELECT COUNT(*) AS n FROM orders')).toBe(before);
    expect(await level(id)).toEqual({ available_quantity: 5, reserved_quantity: 0 });
  });

  it('writes a one-product order, its items and both events in one statement; a total too large writes nothing', async () => {
    const id = await product(100, 2990, 'Vela Aromática');
    const placed = await store<OrderBody>('POST', '/store/orders', {
      items: [
        { productId: id, quantity: 2, customization: { scent: 'lavanda' } },
        { productId: id, quantity: 1 },
      ],
    });
    expect(placed.status).toBe(201);
    expect(placed.body).toMatchObject({ totalAmount: 3 * 2990, status: 'pending' });
    expect(placed.body.items).toMatchObject([
      { productId: id, quantity: 2, unitPrice: 2990, customization: { scent: 'lavanda' } },
      { productId: id, quantity: 1, unitPrice: 2990, customization: null },
    ]);
    const { rows: events } = await t.db.pool.query<{ event_type: string; payload: object }>(
      `SELECT event_type, payload FROM outbox WHERE aggregate_id IN ($1, $2) ORDER BY id`,
      [placed.body.id, id],
    );
    expect(events.slice(-2)).toEqual([
      {
        event_type: 'order.placed',
        payload: {
          orderId: placed.body.id,
          totalAmount: 3 * 2990,
          currency: 'BRL',
          items: [
            { productId: id, variantId: id, quantity: 2 },
            { productId: id, variantId: id, quantity: 1 },
          ],
        },
      },
      {
        event_type: 'inventory.changed',
        payload: {
          productId: id,
          availableQuantity: 97,
          reservedQuantity: 3,
          variants: [{ variantId: id, availableQuantity: 97, reservedQuantity: 3 }],
        },
      },
    ]);

    // 9,000 x R$ 1,000,000.00 does not fit the total's column: 400, and nothing is written.
    const dear = await product(10_000, 100_000_000, 'Relógio de Ouro');
    const before = await count('SELECT COUNT(*)::int AS n FROM orders');
    const tooLarge = await store<ErrorBody>('POST', '/store/orders', {
      items: [{ productId: dear, quantity: 9000 }],
    });
    expect(tooLarge.status).toBe(400);
    expect(tooLarge.body.error.code).toBe('invalid_request');
    expect(await count('SELECT COUNT(*)::int AS n FROM orders')).toBe(before);
    expect(await level(dear)).toEqual({ available_quantity: 10_000, reserved_quantity: 0 });
  });

  describe('status machine', () => {
    const transition = (id: string, to: string) =>
      admin<OrderBody & ErrorBody>('POST', `/admin/orders/${id}/transition`, { to });

    it('confirm, ship (consumes reserved stock), deliver', async () => {
      const id = await product(10);
      const o = (await order([{ productId: id, quantity: 3 }])).body;
      expect(await level(id)).toEqual({ available_quantity: 7, reserved_quantity: 3 });
      expect((await transition(o.id, 'confirmed')).body.status).toBe('confirmed');
      expect((await transition(o.id, 'shipped')).body.status).toBe('shipped');
      expect(await level(id)).toEqual({ available_quantity: 7, reserved_quantity: 0 });
      expect((await transition(o.id, 'delivered')).body.status).toBe('delivered');
      const late = await transition(o.id, 'cancelled');
      expect(late.status).toBe(409);
      expect(late.body.error).toMatchObject({
        code: 'invalid_transition',
        details: { from: 'delivered', to: 'cancelled' },
      });
      expect(await level(id)).toEqual({ available_quantity: 7, reserved_quantity: 0 });
    });

    it('cancelling returns the reserved stock, once', async () => {
      const id = await product(4);
      const o = (await order([{ productId: id, quantity: 4 }])).body;
      expect(await level(id)).toEqual({ available_quantity: 0, reserved_quantity: 4 });
      await transition(o.id, 'confirmed');
      expect((await transition(o.id, 'cancelled')).body.status).toBe('cancelled');
      expect(await level(id)).toEqual({ available_quantity: 4, reserved_quantity: 0 });
      expect((await transition(o.id, 'cancelled')).status).toBe(409);
      expect(await level(id)).toEqual({ available_quantity: 4, reserved_quantity: 0 });
    });

    it('refuses illegal and unknown moves', async () => {
      const id = await product(4);
      const o = (await order([{ productId: id, quantity: 1 }])).body;
      expect((await transition(o.id, 'shipped')).body.error.code).toBe('invalid_transition');
      expect((await transition(o.id, 'delivered')).status).toBe(409);
      expect((await transition(o.id, 'lost')).status).toBe(400);
      expect((await transition(o.id, 'pending')).status).toBe(400);
      expect((await transition('7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11', 'confirmed')).status).toBe(404);
    });

    it('lets concurrent cancels release stock exactly once', async () => {
      const id = await product(5);
      const o = (await order([{ productId: id, quantity: 5 }])).body;
      const results = await Promise.all(Array.from({ length: 10 }, () => transition(o.id, 'cancelled')));
      expect(results.filter((r) => r.status === 200)).toHaveLength(1);
      expect(results.filter((r) => r.status === 409)).toHaveLength(9);
      expect(await level(id)).toEqual({ available_quantity: 5, reserved_quantity: 0 });
    });
  });

  describe('Idempotency-Key', () => {
    it('replays the first response and places one order, also under concurrent retries', async () => {
      const id = await product(100);
      const headers = { 'idempotency-key': 'b1d7e7a0-6a51-4a53-9a3e-3f0c2f6d9e11' };
      const first = await order([{ productId: id, quantity: 2 }], headers);
      expect(first.status).toBe(201);
      const token = first.body.sessionToken!;
      const auth = { ...headers, authorization: `Bearer ${token}` };
      // A guest with no session is scoped by address: the retry gets the same answer and session.
      const retry = await order([{ productId: id, quantity: 2 }], headers);
      expect(retry.status).toBe(201);
      expect(retry.body).toEqual(first.body);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');

      const burst = await Promise.all(
        Array.from({ length: 10 }, () =>
          order([{ productId: id, quantity: 1 }], { ...auth, 'idempotency-key': 'burst-1' }),
        ),
      );
      expect(burst.map((r) => r.status)).toEqual(Array(10).fill(201));
      expect(new Set(burst.map((r) => r.body.id)).size).toBe(1);
      expect(await level(id)).toEqual({ available_quantity: 97, reserved_quantity: 3 });
    });

    it('answers 422 for the same key with another body, and replays a refusal', async () => {
      const id = await product(1);
      const login = await store<{ sessionToken: string }>('POST', '/store/carts');
      const auth = { authorization: `Bearer ${login.body.sessionToken}` };
      const a = await order([{ productId: id, quantity: 1 }], { ...auth, 'idempotency-key': 'k-1' });
      expect(a.status).toBe(201);
      const reused = await order([{ productId: id, quantity: 2 }], { ...auth, 'idempotency-key': 'k-1' });
      expect(reused.status).toBe(422);
      expect(reused.body.error.code).toBe('idempotency_key_reused');

      const short = await order([{ productId: id, quantity: 1 }], { ...auth, 'idempotency-key': 'k-2' });
      expect(short.status).toBe(409);
      await admin('PUT', `/admin/inventory/${id}`, { availableQuantity: 10 });
      const replay = await order([{ productId: id, quantity: 1 }], { ...auth, 'idempotency-key': 'k-2' });
      expect(replay.status).toBe(409);
      expect(replay.body.error.code).toBe('insufficient_stock');
      expect(await level(id)).toEqual({ available_quantity: 10, reserved_quantity: 1 });
    });

    it('answers a key whose order was placed but whose answer was never stored from that order', async () => {
      // The process stopped between the statement that placed the order (claiming the key) and the
      // one storing the answer: the claim names the order, and a retry is answered from it.
      const id = await product(10);
      const headers = { 'idempotency-key': '0e4c1d52-3b59-4a7e-9c51-7d5a4f0b2c99' };
      const first = await order([{ productId: id, quantity: 1 }], headers);
      expect(first.status).toBe(201);
      const cut = await t.db.pool.query(
        `UPDATE idempotency_keys SET status = 'in_progress', response_status = NULL, response_body = NULL
         WHERE order_id = $1`,
        [first.body.id],
      );
      expect(cut.rowCount).toBe(1);
      const retry = await order([{ productId: id, quantity: 1 }], headers);
      expect(retry.status).toBe(201);
      expect(retry.headers.get('idempotent-replayed')).toBe('true');
      expect(retry.body).toEqual(first.body);
      expect(await level(id)).toEqual({ available_quantity: 9, reserved_quantity: 1 });

      // An expired key is taken over by a new request: a new order.
      await t.db.pool.query(
        `UPDATE idempotency_keys SET expires_at = NOW() - INTERVAL '1 second' WHERE order_id = $1`,
        [first.body.id],
      );
      const again = await order([{ productId: id, quantity: 1 }], headers);
      expect(again.status).toBe(201);
      expect(again.headers.get('idempotent-replayed')).toBeNull();
      expect(again.body.id).not.toBe(first.body.id);
      expect(await level(id)).toEqual({ available_quantity: 8, reserved_quantity: 2 });
    });

    it('stores no replayable secret in clear', async () => {
      const id = await product(3);
      const res = await order([{ productId: id, quantity: 1 }], {
        'idempotency-key': '5c0f4f4e-secret-check-0000-000000000000',
        'x-forwarded-for': '10.0.0.9',
      });
      const dump = JSON.stringify((await t.db.pool.query('SELECT * FROM idempotency_keys')).rows);
      expect(dump).not.toContain(res.body.sessionToken!);
      expect(dump).not.toContain('5c0f4f4e-secret-check');
    });
  });

  describe('ownership and soft delete', () => {
    it('shows an order to its owner only (others get 404)', async () => {
      const id = await product(3);
      const mine = await order([{ productId: id, quantity: 1 }]);
      expect(mine.headers.get('set-cookie')).toMatch(/sid=.*HttpOnly.*SameSite=Lax/i);
      const ok = await store<OrderBody>('GET', `/store/orders/${mine.body.id}`, undefined, {
        cookie: `sid=${mine.body.sessionToken}`,
      });
      expect(ok.status).toBe(200);
      const other = await store<{ sessionToken: string }>('POST', '/store/carts');
      const theirs = await store<ErrorBody>('GET', `/store/orders/${mine.body.id}`, undefined, {
        authorization: `Bearer ${other.body.sessionToken}`,
      });
      expect(theirs.status).toBe(404);
      expect((await store('GET', `/store/orders/${mine.body.id}`)).status).toBe(404);
    });

    it('a soft-deleted product leaves the store but stays in its old orders', async () => {
      const id = await product(5, 1990, 'Garrafa Térmica Retrô');
      const o = await order([{ productId: id, quantity: 1 }]);
      expect((await admin('DELETE', `/admin/products/${id}`)).status).toBe(204);
      expect((await store('GET', `/store/products/${id}`)).status).toBe(404);
      const list = await store<{ items: { id: string }[] }>('GET', '/store/products?limit=100');
      expect(list.body.items.some((p) => p.id === id)).toBe(false);
      const old = await admin<OrderBody>('GET', `/admin/orders/${o.body.id}`);
      expect(old.body.items[0]).toMatchObject({ productId: id, unitPrice: 1990 });
      expect((await order([{ productId: id, quantity: 1 }])).status).toBe(400);
      expect((await admin('DELETE', `/admin/products/${id}`)).status).toBe(404);
    });
  });
});
