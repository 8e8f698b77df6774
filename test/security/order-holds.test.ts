/**
 * Attack: hold the catalogue with unpaid boletos. A pending boleto keeps its order's stock for its
 * days to pay plus the days it takes to clear; the per-address cap used to count placements in a
 * PENDING_ORDER_TTL_MINUTES window and guest sessions were free, so one address could keep
 * thousands of orders held for days. Now every holder (address, customer or guest session, payer
 * document) is bounded by what it holds unpaid across the whole hold, checked race-free by the
 * statement or transaction that places the order (or starts the boleto).
 */
import { generateCpf } from '@brazilian-utils/brazilian-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';

const CAPS = {
  MAX_PENDING_ORDERS_PER_ADDRESS: '6',
  MAX_PENDING_UNITS_PER_ADDRESS: '20',
  MAX_PENDING_ORDERS_PER_SESSION: '3',
  MAX_PENDING_UNITS_PER_SESSION: '12',
  MAX_PENDING_BOLETOS_PER_ADDRESS: '3',
  MAX_PENDING_BOLETO_UNITS_PER_ADDRESS: '100',
  MAX_PENDING_BOLETOS_PER_DOCUMENT: '2',
  MAX_UNITS_PER_LINE: '10',
};

const payer = (taxId: string) => ({
  name: 'Ana Souza',
  email: 'ana@example.com',
  taxId,
  address: { line1: 'Rua A, 1', city: 'São Paulo', state: 'SP', postalCode: '01000-000', country: 'BR' },
});

describe('stock held by unpaid orders is bounded per holder', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      ...CAPS,
      GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: '0',
      RATE_LIMIT_ENABLED: 'false',
    });
  });
  afterAll(async () => t?.close());
  const { newProduct } = api(() => t);

  const place = (items: { productId: string; quantity: number }[], from: string, token?: string) =>
    t.server.inject({
      method: 'POST',
      url: '/store/orders',
      remoteAddress: from,
      headers: token ? { authorization: `Bearer ${token}` } : {},
      payload: { items },
    });
  const payBoleto = (orderId: string, token: string, from: string, taxId: string) =>
    t.server.inject({
      method: 'POST',
      url: `/store/orders/${orderId}/payments`,
      remoteAddress: from,
      headers: { authorization: `Bearer ${token}` },
      payload: { method: 'boleto', payer: payer(taxId) },
    });
  const reserved = async (ids: string[]) =>
    (
      await t.db.pool.query<{ n: number }>(
        'SELECT COALESCE(SUM(reserved_quantity), 0)::int AS n FROM inventory WHERE product_id = ANY($1::uuid[])',
        [ids],
      )
    ).rows[0]!.n;

  it('1,000 concurrent guest boleto attempts from one address hold at most the address caps', async () => {
    const a = await newProduct({ availableQuantity: 100_000 });
    const b = await newProduct({ availableQuantity: 100_000 });
    const from = '203.0.113.10';
    const outcomes = await Promise.all(
      Array.from({ length: 1000 }, async (_, i) => {
        // Half order one product (the one-statement path), half two (the transactional path).
        const items =
          i % 2 === 0
            ? [{ productId: a, quantity: 2 }]
            : [
                { productId: a, quantity: 1 },
                { productId: b, quantity: 1 },
              ];
        const placed = await place(items, from);
        if (placed.statusCode !== 201)
          return { placed: placed.statusCode, code: placed.json<Err>().error.code };
        const { id, sessionToken } = placed.json<{ id: string; sessionToken: string }>();
        // A fresh, valid CPF each time: the document cap cannot bind, the address caps must.
        const paid = await payBoleto(id, sessionToken, from, generateCpf());
        return {
          placed: 201,
          paid: paid.statusCode,
          code: paid.statusCode === 202 ? null : paid.json<Err>().error.code,
        };
      }),
    );
    const placed = outcomes.filter((o) => o.placed === 201);
    const boletos = outcomes.filter((o) => o.paid === 202);
    const tally = (xs: { code?: string | null }[]) =>
      Object.fromEntries(
        [...new Set(xs.map((x) => x.code ?? 'none'))].map((c) => [
          c,
          xs.filter((x) => (x.code ?? 'none') === c).length,
        ]),
      );
    const refused = outcomes.filter((o) => o.placed !== 201);
    // Placement: at most 6 orders and 20 units held by the address. The rest are refused: 429
    // (the address full, or busy past the bounded wait), or 503 when the pool was busy too long.
    expect(placed.length).toBeLessThanOrEqual(6);
    expect(placed.length).toBeGreaterThanOrEqual(1);
    expect(
      Object.keys(tally(refused)).filter(
        (c) => !['too_many_pending_orders', 'holder_busy', 'dependency_unavailable'].includes(c),
      ),
    ).toEqual([]);
    expect(await reserved([a, b])).toBeLessThanOrEqual(20);
    // Boletos: at most 3 from this address.
    expect(boletos.length).toBeLessThanOrEqual(3);
    const { rows } = await t.db.pool.query<{ orders: number; boletos: number }>(
      `SELECT COUNT(DISTINCT o.id)::int AS orders,
              COUNT(a.id) FILTER (WHERE a.method = 'boleto' AND a.status = 'pending')::int AS boletos
         FROM orders o LEFT JOIN payment_attempts a ON a.order_id = o.id
        WHERE o.status = 'pending' AND o.hold_address = $1`,
      [from],
    );
    // What the database holds is what counts: a request can commit and still be answered 503 (the
    // pool busy for the statements after it), so the rows are at least the 2xx answers, within caps.
    expect(rows[0]!.orders).toBeGreaterThanOrEqual(placed.length);
    expect(rows[0]!.orders).toBeLessThanOrEqual(6);
    expect(rows[0]!.boletos).toBeGreaterThanOrEqual(boletos.length);
    expect(rows[0]!.boletos).toBeLessThanOrEqual(3);
  });

  it('counts an order for its whole hold, not for a placement window', async () => {
    const p = await newProduct({ availableQuantity: 1000 });
    const from = '203.0.113.20';
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      const r = await place([{ productId: p, quantity: 1 }], from);
      expect(r.statusCode).toBe(201);
      ids.push(r.json<{ id: string }>().id);
    }
    // Placed two hours ago (past the 30-minute TTL), but their boletos hold them for days.
    await t.db.pool.query(
      `UPDATE orders SET created_at = NOW() - INTERVAL '2 hours', payment_expires_at = NOW() + INTERVAL '4 days'
        WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    const refused = await place([{ productId: p, quantity: 1 }], from);
    expect(refused.statusCode).toBe(429);
    expect(refused.json<Err>().error.code).toBe('too_many_pending_orders');
    // Once their hold has ended they no longer count (expiry cancels them).
    await t.db.pool.query(
      `UPDATE orders SET payment_expires_at = NOW() - INTERVAL '1 minute' WHERE id = ANY($1::uuid[])`,
      [ids],
    );
    expect((await place([{ productId: p, quantity: 1 }], from)).statusCode).toBe(201);
  });

  it('bounds the units and orders of one guest session (409), and the units of a line (400)', async () => {
    const p = await newProduct({ availableQuantity: 1000 });
    const from = '203.0.113.30';
    const tooMany = await place([{ productId: p, quantity: 11 }], from);
    expect(tooMany.statusCode).toBe(400);
    expect(tooMany.json<Err>().error.code).toBe('too_many_units');
    const first = await place([{ productId: p, quantity: 10 }], from);
    expect(first.statusCode).toBe(201);
    const token = first.json<{ sessionToken: string }>().sessionToken;
    const over = await place([{ productId: p, quantity: 3 }], from, token); // 10 + 3 > 12 units
    expect(over.statusCode).toBe(409);
    expect(over.json<Err>().error.code).toBe('too_many_pending_orders');
    expect((await place([{ productId: p, quantity: 1 }], from, token)).statusCode).toBe(201);
    expect((await place([{ productId: p, quantity: 1 }], from, token)).statusCode).toBe(201);
    expect((await place([{ productId: p, quantity: 1 }], from, token)).statusCode).toBe(409); // 3 orders
    expect(await reserved([p])).toBe(12);
  });

  it('holds the first order of a session made for it to the session caps, without counting', async () => {
    // A sessionless order gets a guest session made for it, which holds nothing yet: its caps are
    // checked against this order alone (OrderDraft.freshOwner), in one statement or a transaction.
    const [p, q] = [
      await newProduct({ availableQuantity: 1000 }),
      await newProduct({ availableQuantity: 1000 }),
    ];
    const from = '203.0.113.31';
    const oneProduct = await place(
      [
        { productId: p, quantity: 10 },
        { productId: p, quantity: 3 },
      ],
      from,
    ); // 13 > 12 units in one statement
    expect(oneProduct.statusCode).toBe(409);
    expect(oneProduct.json<Err>().error.code).toBe('too_many_pending_orders');
    const twoProducts = await place(
      [
        { productId: p, quantity: 10 },
        { productId: q, quantity: 3 },
      ],
      from,
    ); // 13 > 12 units in a transaction
    expect(twoProducts.statusCode).toBe(409);
    expect(await reserved([p, q])).toBe(0);
    const atCap = await place(
      [
        { productId: p, quantity: 10 },
        { productId: q, quantity: 2 },
      ],
      from,
    );
    expect(atCap.statusCode).toBe(201);
    expect(await reserved([p, q])).toBe(12);
    // The session it got holds 12 units now: counted from here on.
    const token = atCap.json<{ sessionToken: string }>().sessionToken;
    expect((await place([{ productId: q, quantity: 1 }], from, token)).statusCode).toBe(409);
  });

  it('a boleto needs a valid CPF/CNPJ and is capped per document across addresses', async () => {
    const p = await newProduct({ availableQuantity: 1000 });
    const cpf = generateCpf();
    const order = async (from: string) => {
      const r = await place([{ productId: p, quantity: 1 }], from);
      return r.json<{ id: string; sessionToken: string }>();
    };
    const o = await order('203.0.113.40');
    const invalid = await payBoleto(o.id, o.sessionToken, '203.0.113.40', '123.456.789-00');
    expect(invalid.statusCode).toBe(400);
    expect(invalid.json<Err>().error.code).toBe('invalid_request');
    // An alphanumeric CNPJ (2026 format) is a valid document.
    expect((await payBoleto(o.id, o.sessionToken, '203.0.113.40', '12.ABC.345/01DE-35')).statusCode).toBe(
      202,
    );
    const statuses: number[] = [];
    for (const from of ['203.0.113.41', '203.0.113.42', '203.0.113.43']) {
      const x = await order(from);
      statuses.push((await payBoleto(x.id, x.sessionToken, from, cpf)).statusCode);
    }
    expect(statuses).toEqual([202, 202, 429]);
  });
});
