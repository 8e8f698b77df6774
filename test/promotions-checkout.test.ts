/**
 * Promotions on carts and orders (issue 30): codes applied and removed, automatic promotions,
 * discounts split over lines to the centavo, free shipping, and the exact redemption in the
 * checkout's transaction: a 10-use code raced by 200 checkouts is on exactly 10 orders, and comes
 * back when those orders expire unpaid. Through the HTTP API against the real services.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';

const ZONE = {
  name: 'Brasil',
  carrier: 'Correios',
  service: 'PAC',
  states: ['SP', 'RJ', 'MG'],
  brackets: [{ maxGrams: 100_000, price: 2500, minDays: 3, maxDays: 6 }],
};
const ADDRESS = {
  recipient: 'Ana Lima',
  cep: '01310-100',
  street: 'Avenida Paulista',
  number: '900',
  district: 'Bela Vista',
  city: 'São Paulo',
  state: 'SP',
};
const CPFS = ['123.456.789-09', '529.982.247-25', '111.444.777-35', '390.533.447-05'];

interface Line {
  id: string;
  productId: string;
  lineTotal: number;
  discountAmount: number;
}
interface Discount {
  promotionId: string;
  code?: string;
  name: string;
  amount: number;
  target: 'items' | 'shipping';
}
interface CartBody {
  id: string;
  status: string;
  sessionToken?: string;
  items: Line[];
  totals: { subtotal: number; discount: number; shipping: number; total: number };
  promotionCodes: string[];
  discounts: Discount[];
  promotionNotices: { code?: string; reason: string }[];
}
interface OrderBody {
  id: string;
  status: string;
  totalAmount: number;
  totals: { subtotal: number; discount: number; shipping: number; total: number };
  items: { id: string; productId: string; unitPrice: number; quantity: number; discountAmount: number }[];
  discounts: Discount[];
}

describe('promotions on carts and at checkout', () => {
  let t: TestApp;
  let shoes: string; // 3 categories: shoes in "Calçados > Tênis", shirts in "Roupas", a mug elsewhere
  let shirt: string;
  let mug: string;
  let footwear: string;
  beforeAll(async () => {
    t = await createTestApp({
      SHIPPING_DEFAULT_WEIGHT_GRAMS: '500',
      // The race sets up 200 carts from one address, and its 200 checkouts queue for this one
      // process's 20 connections (the losers wait for the winners' row lock): exactness is what is
      // tested here, not how long a checkout may wait for a connection on a busy machine.
      RATE_LIMIT_PER_MINUTE: '1000000',
      DB_CONNECTION_TIMEOUT_MS: '60000',
    });
    const category = async (name: string, parentId?: string) =>
      (
        await call<{ id: string }>('POST', '/admin/categories', {
          name,
          slug: `${name.toLowerCase().replace(/\W/g, '')}-${randomUUID().slice(0, 6)}`,
          ...(parentId ? { parentId } : {}),
        })
      ).body.id;
    footwear = await category('Calcados');
    const sneakers = await category('Tenis', footwear);
    const clothes = await category('Roupas');
    const product = async (name: string, basePrice: number, categoryId?: string) =>
      (
        await t.app.services.catalog.createProduct({
          name,
          basePrice,
          availableQuantity: 1000,
          ...(categoryId ? { categoryId } : {}),
        })
      ).id;
    shoes = await product('Tênis Corrida', 33333, sneakers);
    shirt = await product('Camiseta Básica', 4999, clothes);
    mug = await product('Caneca', 2990);
    expect((await call('POST', '/admin/shipping/zones', ZONE)).status).toBe(201);
  });
  afterAll(async () => t?.close());
  const { call, request } = api(() => t);

  const promotion = async (body: Record<string, unknown>) => {
    const res = await call<{ id: string } & Err>('POST', '/admin/promotions', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.id;
  };
  /** A guest cart with these lines, an address, the freight chosen and a buyer. */
  async function cart(lines: [string, number][], cpf = CPFS[0]!, email = 'ana@example.com') {
    const created = await request<CartBody>('POST', '/store/carts');
    const token = created.body.sessionToken!;
    const id = created.body.id;
    for (const [productId, quantity] of lines)
      expect(
        (await request('POST', `/store/carts/${id}/items`, { token, body: { productId, quantity } })).status,
      ).toBe(200);
    expect(
      (await request('PUT', `/store/carts/${id}/shipping-address`, { token, body: ADDRESS })).status,
    ).toBe(200);
    const options = await request<{ options: { id: string }[] }>(
      'GET',
      `/store/carts/${id}/shipping-options`,
      {
        token,
      },
    );
    await request('PUT', `/store/carts/${id}/shipping-method`, {
      token,
      body: { optionId: options.body.options[0]!.id },
    });
    await request('PUT', `/store/carts/${id}/buyer`, {
      token,
      body: { name: 'Ana Lima', email, document: { number: cpf } },
    });
    return { id, token };
  }
  const apply = (c: { id: string; token: string }, code: string) =>
    request<CartBody & Err>('POST', `/store/carts/${c.id}/promotions`, { token: c.token, body: { code } });
  const checkout = (c: { id: string; token: string }) =>
    request<OrderBody & Err>('POST', `/store/carts/${c.id}/checkout`, { token: c.token });
  const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);

  it('takes 20 % off a category (with its sub-categories) to the centavo, split over its lines, on the cart and the order', async () => {
    const code = `TENIS20-${randomUUID().slice(0, 6)}`;
    await promotion({
      name: '20% em calçados',
      code,
      kind: 'percentage',
      value: 20,
      appliesTo: { categoryIds: [footwear] },
    });
    const c = await cart([
      [shoes, 3],
      [shirt, 1],
      [mug, 2],
    ]);
    const applied = await apply(c, code.toLowerCase());
    expect(applied.status, JSON.stringify(applied.body)).toBe(200);
    // 3 x 333,33 = 999,99; 20 % rounded down = 199,99 on the shoes only.
    const byProduct = new Map(applied.body.items.map((l) => [l.productId, l.discountAmount]));
    expect(byProduct.get(shoes)).toBe(19999);
    expect(byProduct.get(shirt)).toBe(0);
    expect(byProduct.get(mug)).toBe(0);
    expect(applied.body.discounts).toEqual([
      {
        promotionId: expect.any(String) as string,
        code: code.toUpperCase(),
        name: '20% em calçados',
        amount: 19999,
        target: 'items',
      },
    ]);
    const subtotal = 99999 + 4999 + 5980;
    expect(applied.body.totals).toEqual({
      subtotal,
      discount: 19999,
      shipping: 2500,
      total: subtotal - 19999 + 2500,
    });
    expect(sum(applied.body.items.map((l) => l.discountAmount))).toBe(applied.body.totals.discount);

    const placed = await checkout(c);
    expect(placed.status, JSON.stringify(placed.body)).toBe(201);
    expect(placed.body.totals).toEqual(applied.body.totals);
    expect(placed.body.totalAmount).toBe(subtotal - 19999 + 2500);
    expect(sum(placed.body.items.map((i) => i.discountAmount))).toBe(placed.body.totals.discount);
    expect(placed.body.items.find((i) => i.productId === shoes)!.discountAmount).toBe(19999);
    expect(placed.body.discounts).toHaveLength(1);
    const detail = await call<{ items: { type: string }[] }>('GET', `/admin/orders/${placed.body.id}/events`);
    expect(detail.body.items.map((h) => h.type)).toContain('promotion.applied');
  });

  it('splits a fixed amount over several lines by largest remainder, the shares adding up to the discount', async () => {
    const code = `DEZ-${randomUUID().slice(0, 6)}`;
    await promotion({ name: 'R$ 10 off', code, kind: 'fixed', value: 1000 });
    const c = await cart([
      [shirt, 1],
      [mug, 1],
      [shoes, 1],
    ]);
    const applied = await apply(c, code);
    expect(applied.status).toBe(200);
    const shares = applied.body.items.map((l) => l.discountAmount);
    expect(sum(shares)).toBe(1000);
    // In proportion to 4999 : 2990 : 33333 (of 41322): 120.97, 72.35, 806.66 -> 120, 72, 806 + 2 left
    // to the largest fractions (0.97, 0.66): 121, 72, 807.
    expect(shares).toEqual([121, 72, 807]);
    const placed = await checkout(c);
    expect(placed.body.items.map((i) => i.discountAmount)).toEqual([121, 72, 807]);
  });

  it('free shipping above a threshold zeroes the freight only; an automatic promotion appears by itself', async () => {
    const id = await promotion({
      name: 'Frete grátis acima de R$ 199',
      automatic: true,
      kind: 'free_shipping',
      minSubtotal: 19900,
    });
    try {
      const small = await cart([[mug, 1]]);
      const below = await request<CartBody>('GET', `/store/carts/${small.id}`, { token: small.token });
      expect(below.body.totals).toEqual({ subtotal: 2990, discount: 0, shipping: 2500, total: 5490 });
      expect(below.body.promotionNotices).toContainEqual(expect.objectContaining({ reason: 'min_subtotal' }));
      const big = await cart([[shoes, 1]]);
      const above = await request<CartBody>('GET', `/store/carts/${big.id}`, { token: big.token });
      expect(above.body.totals).toEqual({ subtotal: 33333, discount: 0, shipping: 0, total: 33333 });
      expect(above.body.discounts).toEqual([
        expect.objectContaining({ promotionId: id, amount: 2500, target: 'shipping' }),
      ]);
      const placed = await checkout(big);
      expect(placed.body.totals).toEqual({ subtotal: 33333, discount: 0, shipping: 0, total: 33333 });
      expect(placed.body.items[0]!.discountAmount).toBe(0);
    } finally {
      await call('DELETE', `/admin/promotions/${id}`);
    }
  });

  it('answers 404 for an unknown code, 409 outside the window, and drops a discount when a line goes below the minimum', async () => {
    const c = await cart([
      [shirt, 2],
      [mug, 1],
    ]);
    const unknown = await apply(c, 'NAO-EXISTE-123');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.code).toBe('promotion_not_found');
    const late = `FIM-${randomUUID().slice(0, 6)}`;
    await promotion({
      name: 'Acabou',
      code: late,
      kind: 'percentage',
      value: 10,
      startsAt: new Date(Date.now() - 86_400_000).toISOString(),
      endsAt: new Date(Date.now() - 3_600_000).toISOString(),
    });
    const expired = await apply(c, late);
    expect(expired.status).toBe(409);
    expect(expired.body.error.code).toBe('promotion_expired');
    const min = `MIN-${randomUUID().slice(0, 6)}`;
    await promotion({
      name: 'R$ 5 acima de R$ 100',
      code: min,
      kind: 'fixed',
      value: 500,
      minSubtotal: 10000,
    });
    const ok = await apply(c, min);
    expect(ok.status).toBe(200);
    expect(ok.body.totals.discount).toBe(500);
    // One shirt out: 49,99 + 29,90 < 100: the code stays, the discount goes, with the reason.
    const shirtLine = ok.body.items.find((l) => l.productId === shirt)!;
    const less = await request<CartBody>('PATCH', `/store/carts/${c.id}/items/${shirtLine.id}`, {
      token: c.token,
      body: { quantity: 1 },
    });
    expect(less.body.totals.discount).toBe(0);
    expect(less.body.promotionCodes).toEqual([min.toUpperCase()]);
    expect(less.body.promotionNotices).toEqual([
      { code: min.toUpperCase(), promotionId: expect.any(String) as string, reason: 'min_subtotal' },
    ]);
    // Applying it now is refused with the reason; removing it takes it off.
    const again = await request<Err>('POST', `/store/carts/${c.id}/promotions`, {
      token: c.token,
      body: { code: 'NAO-EXISTE-456' },
    });
    expect(again.status).toBe(404);
    const removed = await request<CartBody>(
      'DELETE',
      `/store/carts/${c.id}/promotions/${min.toLowerCase()}`,
      {
        token: c.token,
      },
    );
    expect(removed.status).toBe(200);
    expect(removed.body.promotionCodes).toEqual([]);
    const gone = await request<Err>('DELETE', `/store/carts/${c.id}/promotions/${min}`, { token: c.token });
    expect(gone.status).toBe(404);
    expect(gone.body.error.code).toBe('promotion_not_found');
    // Bad input: 400, never 500; another session's cart: 404.
    const bad = await request<Err>('POST', `/store/carts/${c.id}/promotions`, {
      token: c.token,
      body: { code: 'x y' },
    });
    expect(bad.status).toBe(400);
    const stranger = await cart([[mug, 1]]);
    const theirs = await request<Err>('POST', `/store/carts/${c.id}/promotions`, {
      token: stranger.token,
      body: { code: min },
    });
    expect(theirs.status).toBe(404);
  });

  it('of two non-combinable promotions applies the better one', async () => {
    const five = `CINCO-${randomUUID().slice(0, 6)}`;
    const fifteen = `QUINZE-${randomUUID().slice(0, 6)}`;
    await promotion({ name: '5%', code: five, kind: 'percentage', value: 5 });
    await promotion({ name: '15%', code: fifteen, kind: 'percentage', value: 15 });
    const c = await cart([[shirt, 2]]);
    expect((await apply(c, five)).status).toBe(200);
    // The second gives more: it replaces the first's discount, which stays on the cart doing nothing.
    const both = await apply(c, fifteen);
    expect(both.status).toBe(200);
    expect(both.body.discounts.map((d) => d.name)).toEqual(['15%']);
    expect(both.body.totals.discount).toBe(1499); // 15 % of 99,98 rounded down
    expect(both.body.promotionNotices).toContainEqual(
      expect.objectContaining({ code: five.toUpperCase(), reason: 'better_promotion_applies' }),
    );
    // The weaker one applied on top of the better is refused with the reason.
    const c2 = await cart([[shirt, 2]]);
    expect((await apply(c2, fifteen)).status).toBe(200);
    const weaker = await apply(c2, five);
    expect(weaker.status).toBe(409);
    expect(weaker.body.error).toMatchObject({
      code: 'promotion_not_applicable',
      details: { reason: 'better_promotion_applies' },
    });
  });

  it('holds a customer (guests by document and e-mail) to usageLimitPerCustomer', async () => {
    const code = `UMA-${randomUUID().slice(0, 6)}`;
    await promotion({ name: 'Uma por cliente', code, kind: 'fixed', value: 300, usageLimitPerCustomer: 1 });
    const first = await cart([[mug, 1]], CPFS[1], 'bia@example.com');
    expect((await apply(first, code)).status).toBe(200);
    expect((await checkout(first)).status).toBe(201);
    // The same CPF as a new guest, with another e-mail: refused when applied.
    const second = await cart([[mug, 1]], CPFS[1], 'outra@example.com');
    const refused = await apply(second, code);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({
      code: 'promotion_exhausted',
      details: { reason: 'customer_limit' },
    });
  });

  it('a 10-use code raced by 200 checkouts is on exactly 10 orders; 190 get 409 promotion_exhausted with their carts intact; expired orders give it back', async () => {
    const code = `DEZVEZES-${randomUUID().slice(0, 6)}`;
    const id = await promotion({ name: 'Dez usos', code, kind: 'fixed', value: 1000, usageLimit: 10 });
    const carts: { id: string; token: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const c = await cart([[shirt, 1]], CPFS[i % CPFS.length], `race${i}@example.com`);
      expect((await apply(c, code)).status).toBe(200);
      carts.push(c);
    }
    const results = await Promise.all(carts.map((c) => checkout(c)));
    const placed = results.filter((r) => r.status === 201);
    const refused = results.filter((r) => r.status === 409);
    const statuses = results.map((r) => `${r.status} ${r.status === 201 ? '' : r.body.error?.code}`);
    expect(placed, JSON.stringify([...new Set(statuses)])).toHaveLength(10);
    expect(
      refused,
      JSON.stringify([...new Set(statuses.filter((s) => !s.startsWith('409') && !s.startsWith('201')))]),
    ).toHaveLength(190);
    expect(new Set(refused.map((r) => r.body.error.code))).toEqual(new Set(['promotion_exhausted']));
    for (const r of placed) expect(r.body.totals.discount).toBe(1000);
    const { rows } = await t.db.pool.query<{ n: number; used: number }>(
      `SELECT (SELECT COUNT(*)::int FROM promotion_redemptions WHERE promotion_id = $1 AND released_at IS NULL) AS n,
              (SELECT used FROM promotions WHERE id = $1) AS used`,
      [id],
    );
    expect(rows[0]).toEqual({ n: 10, used: 10 });
    // The refused carts are as they were: active, with their code, nothing placed.
    const loser = carts.find((_, i) => results[i]!.status === 409)!;
    const intact = await request<CartBody>('GET', `/store/carts/${loser.id}`, { token: loser.token });
    expect(intact.body.status).toBe('active');
    expect(intact.body.promotionCodes).toEqual([code.toUpperCase()]);
    expect(intact.body.promotionNotices).toContainEqual(expect.objectContaining({ reason: 'usage_limit' }));

    // The 10 orders expire unpaid: the code is free again.
    await t.db.pool.query(
      `UPDATE orders SET created_at = NOW() - INTERVAL '2 hours' WHERE id = ANY($1::uuid[])`,
      [placed.map((r) => r.body.id)],
    );
    await t.app.services.orders.expirePending({ ttlMinutes: 30 });
    const after = await t.db.pool.query<{ used: number }>('SELECT used FROM promotions WHERE id = $1', [id]);
    expect(after.rows[0]!.used).toBe(0);
    const history = await call<{ items: { type: string }[] }>(
      'GET',
      `/admin/orders/${placed[0]!.body.id}/events`,
    );
    expect(history.body.items.map((h) => h.type)).toContain('promotion.released');
    const retry = await checkout(loser);
    expect(retry.status, JSON.stringify(retry.body)).toBe(201);
    expect(retry.body.totals.discount).toBe(1000);
  });

  it('an order cancelled before payment gives its single-use code back', async () => {
    const id = await promotion({ name: 'Código único', kind: 'percentage', value: 10 });
    expect((await call('POST', `/admin/promotions/${id}/codes`, { count: 1, prefix: 'UNICO' })).status).toBe(
      201,
    );
    const codes = await call<{ items: { code: string }[] }>('GET', `/admin/promotions/${id}/codes`);
    const code = codes.body.items[0]!.code;
    const c = await cart([[shirt, 1]]);
    expect((await apply(c, code)).status).toBe(200);
    const placed = await checkout(c);
    expect(placed.status).toBe(201);
    const other = await cart([[shirt, 1]], CPFS[2], 'outro@example.com');
    expect((await apply(other, code)).body.error.code).toBe('promotion_exhausted');
    const cancelled = await call('POST', `/admin/orders/${placed.body.id}/transition`, { to: 'cancelled' });
    expect(cancelled.status, JSON.stringify(cancelled.body)).toBe(200);
    expect((await apply(other, code)).status).toBe(200);
  });

  /**
   * A paid order of 3 units of a new product at R$ 333,33 with 20 % off by code (800,00 paid for
   * the line) and `mugs` mugs.
   */
  async function paidWithDiscountedLine(name: string, mugs: number) {
    const product = (
      await t.app.services.catalog.createProduct({ name, basePrice: 33333, availableQuantity: 10 })
    ).id;
    const code = `LINHA-${randomUUID().slice(0, 6)}`;
    await promotion({
      name: `20% ${name}`,
      code,
      kind: 'percentage',
      value: 20,
      appliesTo: { productIds: [product] },
    });
    const c = await cart([
      [product, 3],
      [mug, mugs],
    ]);
    expect((await apply(c, code)).status).toBe(200);
    const placed = await checkout(c);
    expect(placed.status).toBe(201);
    const paid = await request('POST', `/store/orders/${placed.body.id}/payments`, {
      token: c.token,
      body: { paymentMethod: 'tok_visa' },
    });
    expect(paid.status).toBe(201);
    return { placed, product, line: placed.body.items.find((i) => i.productId === product)! };
  }

  it('refunds units of a discounted line for what was paid for them, to the centavo, and no more units than the line had', async () => {
    const { placed, line, product } = await paidWithDiscountedLine('Bota', 1);
    // 3 x 333,33 = 999,99 less 199,99 = 800,00 paid: 266,67 + 266,67 + 266,66.
    expect(line.discountAmount).toBe(19999);
    const refund = (units: number, key: string) =>
      call<{ refunds: { amount: number; items: unknown }[] } & Err>(
        'POST',
        `/admin/orders/${placed.body.id}/refunds`,
        { items: [{ orderItemId: line.id, quantity: units }] },
        undefined,
        { 'idempotency-key': key },
      );
    const one = await refund(1, `r1-${placed.body.id}`);
    expect(one.status, JSON.stringify(one.body)).toBe(201);
    expect(one.body.refunds.map((r) => r.amount)).toEqual([26667]);
    expect(one.body.refunds[0]!.items).toEqual([{ orderItemId: line.id, quantity: 1 }]);
    const two = await refund(2, `r2-${placed.body.id}`);
    expect(two.body.refunds.map((r) => r.amount)).toEqual([53333]);
    expect(26667 + 53333).toBe(line.unitPrice * line.quantity - line.discountAmount);
    const more = await refund(1, `r3-${placed.body.id}`);
    expect(more.status).toBe(409);
    expect(more.body.error.code).toBe('refund_exceeds_line');
    // An amount and items together, or a line of another order: 400.
    const both = await call<Err>(
      'POST',
      `/admin/orders/${placed.body.id}/refunds`,
      { amount: 100, items: [{ orderItemId: line.id, quantity: 1 }] },
      undefined,
      { 'idempotency-key': `r4-${placed.body.id}` },
    );
    expect(both.status).toBe(400);
    const stranger = await call<Err>(
      'POST',
      `/admin/orders/${placed.body.id}/refunds`,
      { items: [{ orderItemId: randomUUID(), quantity: 1 }] },
      undefined,
      { 'idempotency-key': `r5-${placed.body.id}` },
    );
    expect(stranger.status).toBe(400);
    // The per-variant revenue counts what was paid (the discount off), not the list price.
    const sales = await call<{ items: { revenue: number; totalSold: number }[] }>(
      'GET',
      `/admin/stats/products/${product}/variants`,
    );
    expect(sales.body.items).toEqual([expect.objectContaining({ totalSold: 3, revenue: 80000 })]);
  });

  it('refunds of the same line racing each other give back each unit once, for what it cost', async () => {
    // Another line keeps money on the payment: only the line's units can stop a fourth refund.
    const { placed, line } = await paidWithDiscountedLine('Chapéu', 2);
    // 8 refunds of one unit each, with their own keys, all at once: the line has 3.
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) =>
        call<{ refunds: { amount: number }[] } & Err>(
          'POST',
          `/admin/orders/${placed.body.id}/refunds`,
          { items: [{ orderItemId: line.id, quantity: 1 }] },
          undefined,
          { 'idempotency-key': `race-${i}-${placed.body.id}` },
        ),
      ),
    );
    const done = answers.filter((a) => a.status === 201);
    expect(done).toHaveLength(3);
    expect(answers.filter((a) => a.status === 409).map((a) => a.body.error.code)).toEqual(
      Array(5).fill('refund_exceeds_line'),
    );
    // 800,00 paid for the line, given back exactly: the units' shares in whatever order they landed.
    const amounts = done.map((a) => a.body.refunds[0]!.amount).sort();
    expect(amounts).toEqual([26666, 26667, 26667]);
    const payments = await call<{ items: { refunds: { amount: number; status: string }[] }[] }>(
      'GET',
      `/admin/orders/${placed.body.id}/payments`,
    );
    const refunds = payments.body.items.flatMap((p) => p.refunds).filter((r) => r.status !== 'failed');
    expect(refunds).toHaveLength(3);
    expect(refunds.reduce((sum, r) => sum + r.amount, 0)).toBe(80000);
  });
});
