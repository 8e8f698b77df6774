/**
 * Promotions: the admin API, bulk codes, pricing against the catalogue, and the exactness of
 * redemptions under contention (the redemption primitive the order's transaction runs).
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { withTransaction } from '../src/platform/db/transaction.ts';
import { CODE_ALPHABET, type Buyer, type Promotion } from '../src/modules/promotions/promotions.service.ts';

describe('promotions', () => {
  let t: TestApp;
  /** Checkouts of their own: as many connections as racing checkouts, as API instances would have. */
  let checkouts: pg.Pool;
  beforeAll(async () => {
    t = await createTestApp();
    checkouts = new pg.Pool({ connectionString: t.app.databaseUrl, max: 50 });
  });
  afterAll(async () => {
    await checkouts?.end();
    await t?.close();
  });
  const { call, newProduct } = api(() => t);
  const promotions = () => t.app.services.promotions;

  const create = async (body: Record<string, unknown>) => {
    const res = await call<Promotion & Err>('POST', '/admin/promotions', body);
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body;
  };
  const category = async (name: string, parentId?: string) => {
    const res = await call<{ id: string }>('POST', '/admin/categories', {
      name,
      slug: `${name.toLowerCase()}-${randomUUID().slice(0, 8)}`,
      ...(parentId ? { parentId } : {}),
    });
    expect(res.status).toBe(201);
    return res.body.id;
  };

  /** 200 (or `n`) redemptions of a quote racing in their own transactions: how many got through. */
  const race = async (code: string | undefined, n: number, buyer: (i: number) => Buyer) => {
    const product = await newProduct({ basePrice: 10000 });
    const outcomes = await Promise.all(
      Array.from({ length: n }, async (_, i) => {
        const b = buyer(i);
        const pricing = await promotions().quote({
          lines: [{ key: '0', productId: product, unitPrice: 10000, quantity: 1 }],
          shipping: 0,
          codes: code ? [code] : [],
          buyer: b,
        });
        if (pricing.discounts.length === 0) return 'not offered';
        try {
          await withTransaction(checkouts, (tx) =>
            promotions().redeem(tx, { orderId: randomUUID(), buyer: b, pricing }),
          );
          return 'redeemed';
        } catch (error) {
          return (error as { code?: string }).code ?? String(error);
        }
      }),
    );
    const count = (what: string) => outcomes.filter((o) => o === what).length;
    return { redeemed: count('redeemed'), exhausted: count('promotion_exhausted'), outcomes };
  };

  it('is managed through the admin API: validation, a unique case-insensitive code, soft delete', async () => {
    const p = await create({ name: 'Dez por cento', code: 'dez10', kind: 'percentage', value: 10 });
    expect(p).toMatchObject({ code: 'DEZ10', kind: 'percentage', value: 10, used: 0, combinable: false });
    const dup = await call<Err>('POST', '/admin/promotions', {
      name: 'Outra',
      code: 'DeZ10',
      kind: 'fixed',
      value: 500,
    });
    expect(dup.status).toBe(409);
    expect(dup.body.error.code).toBe('duplicate');
    expect(JSON.stringify(dup.body.error.details)).toContain('code');
    const bad = await call<Err>('POST', '/admin/promotions', {
      name: 'Demais',
      kind: 'percentage',
      value: 150,
    });
    expect(bad.status).toBe(400);
    const window = await call<Err>('POST', '/admin/promotions', {
      name: 'Janela',
      kind: 'fixed',
      value: 100,
      startsAt: '2026-12-31T00:00:00Z',
      endsAt: '2026-12-01T00:00:00Z',
    });
    expect(window.status).toBe(400);
    const changed = await call<Promotion>('PATCH', `/admin/promotions/${p.id}`, { value: 15, code: null });
    expect(changed.status).toBe(200);
    expect(changed.body).toMatchObject({ value: 15, code: null });
    const listed = await call<{ items: Promotion[] }>('GET', '/admin/promotions?limit=100');
    expect(listed.body.items.map((x) => x.id)).toContain(p.id);
    expect((await call('DELETE', `/admin/promotions/${p.id}`)).status).toBe(204);
    expect((await call('GET', `/admin/promotions/${p.id}`)).status).toBe(404);
    // The code is free again only if no row holds it: the deleted promotion lost it when PATCHed.
    await create({ name: 'Reuso', code: 'DEZ10', kind: 'percentage', value: 10 });
  });

  it('generates 100,000 unique single-use codes from an unambiguous alphabet, exports them as CSV', async () => {
    const p = await create({ name: 'Lista de e-mail', kind: 'fixed', value: 1000 });
    const res = await call<{ generated: number }>('POST', `/admin/promotions/${p.id}/codes`, {
      count: 100_000,
      prefix: 'bf',
    });
    expect(res.status).toBe(201);
    expect(res.body.generated).toBe(100_000);
    const { rows } = await t.db.pool.query<{ n: number; distinct: number; bad: number }>(
      `SELECT COUNT(*)::int AS n, COUNT(DISTINCT code)::int AS distinct,
              COUNT(*) FILTER (WHERE code !~ $2)::int AS bad
       FROM promotion_codes WHERE promotion_id = $1 AND single_use`,
      [p.id, `^BF-[${CODE_ALPHABET}]{10}$`],
    );
    expect(rows[0]).toEqual({ n: 100_000, distinct: 100_000, bad: 0 });
    const csv = await t.server.inject({
      method: 'GET',
      url: `/admin/promotions/${p.id}/codes/export`,
      headers: { authorization: `Bearer ${t.adminKey}` },
    });
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    const lines = csv.body.trim().split('\n');
    expect(lines[0]).toBe('code,redeemed,order_id,created_at');
    expect(lines.length).toBe(100_001);
    // Lookup ignores case.
    const one = lines[1]!.split(',')[0]!;
    expect((await promotions().checkCode(one.toLowerCase(), {})).id).toBe(p.id);
    const page = await call<{ items: { code: string }[]; nextCursor: string }>(
      'GET',
      `/admin/promotions/${p.id}/codes?limit=2`,
    );
    expect(page.body.items.map((c) => c.code)).toEqual([one, lines[2]!.split(',')[0]]);
  });

  it('a code limited to 10 uses is redeemed exactly 10 times by 200 racing checkouts, and given back', async () => {
    const p = await create({
      name: 'Dez usos',
      code: 'RUSH10',
      kind: 'percentage',
      value: 20,
      usageLimit: 10,
    });
    const first = await race('rush10', 200, () => ({}));
    expect(first.redeemed).toBe(10);
    expect(first.redeemed + first.exhausted + first.outcomes.filter((o) => o === 'not offered').length).toBe(
      200,
    );
    expect((await promotions().get(p.id)).used).toBe(10);
    await expect(promotions().checkCode('RUSH10', {})).rejects.toMatchObject({ code: 'promotion_exhausted' });
    // The ten orders expire unpaid: their redemptions come back, and the code can be used again.
    const { rows } = await t.db.pool.query<{ order_id: string }>(
      'SELECT order_id FROM promotion_redemptions WHERE promotion_id = $1 AND released_at IS NULL',
      [p.id],
    );
    expect(rows).toHaveLength(10);
    for (const r of rows)
      await withTransaction(t.app.db.primary, (tx) => promotions().release(tx, r.order_id));
    expect((await promotions().get(p.id)).used).toBe(0);
    // One of the three is a signed-in customer: the redemptions list names them (guests: null).
    const customerId = randomUUID();
    expect((await race('RUSH10', 3, (i) => (i === 0 ? { customerId } : {}))).redeemed).toBe(3);
    const redemptions = await call<{ items: { releasedAt: string | null; customerId: string | null }[] }>(
      'GET',
      `/admin/promotions/${p.id}/redemptions?limit=100`,
    );
    const live = redemptions.body.items.filter((r) => r.releasedAt === null);
    expect(live).toHaveLength(3);
    expect(live.map((r) => r.customerId).sort()).toEqual([customerId, null, null].sort());
    expect(redemptions.body.items.filter((r) => r.releasedAt !== null)).toHaveLength(10);
  });

  it('a single-use code is on one order however many race for it', async () => {
    const p = await create({ name: 'Único', kind: 'fixed', value: 500 });
    await promotions().generateCodes(p.id, { count: 1 });
    const { rows } = await t.db.pool.query<{ code: string }>(
      'SELECT code FROM promotion_codes WHERE promotion_id = $1',
      [p.id],
    );
    const r = await race(rows[0]!.code, 50, () => ({}));
    expect(r.redeemed).toBe(1);
  });

  it('holds a customer (and a guest, by document and e-mail) to usageLimitPerCustomer, racing or not', async () => {
    await create({
      name: 'Uma por cliente',
      code: 'UMAVEZ',
      kind: 'fixed',
      value: 300,
      usageLimitPerCustomer: 1,
    });
    const customerId = randomUUID();
    const racing = await race('UMAVEZ', 20, () => ({ customerId }));
    expect(racing.redeemed).toBe(1);
    await expect(promotions().checkCode('umavez', { customerId })).rejects.toMatchObject({
      code: 'promotion_exhausted',
      details: { reason: 'customer_limit' },
    });
    // A guest giving the same e-mail as an earlier guest order is the same customer.
    const guest = { email: 'Ana@Example.com', document: '123.456.789-09' };
    expect((await race('UMAVEZ', 1, () => guest)).redeemed).toBe(1);
    expect((await race('UMAVEZ', 1, () => ({ email: 'ana@example.com' }))).redeemed).toBe(0);
    expect((await race('UMAVEZ', 1, () => ({ document: '12345678909' }))).redeemed).toBe(0);
    expect((await race('UMAVEZ', 1, () => ({ email: 'bia@example.com' }))).redeemed).toBe(1);
  });

  it('refuses a code outside its window: 409 promotion_expired after it, not_applicable before it', async () => {
    await create({
      name: 'Passada',
      code: 'PASSOU',
      kind: 'fixed',
      value: 100,
      startsAt: '2020-01-01T00:00:00Z',
      endsAt: '2020-01-02T00:00:00Z',
    });
    await create({
      name: 'Futura',
      code: 'VIRA',
      kind: 'fixed',
      value: 100,
      startsAt: '2099-01-01T00:00:00Z',
    });
    await expect(promotions().checkCode('passou', {})).rejects.toMatchObject({ code: 'promotion_expired' });
    await expect(promotions().checkCode('vira', {})).rejects.toMatchObject({
      code: 'promotion_not_applicable',
      details: { reason: 'not_started' },
    });
    await expect(promotions().checkCode('nenhum', {})).rejects.toMatchObject({ code: 'promotion_not_found' });
  });

  it('prices a cart: 20 % off a category (with its sub-categories) to the centavo, automatic free shipping', async () => {
    const roupas = await category('Roupas');
    const camisetas = await category('Camisetas', roupas);
    const casa = await category('Casa');
    const [a, b, c] = [
      await newProduct({ basePrice: 3333, categoryId: camisetas }),
      await newProduct({ basePrice: 1999, categoryId: roupas }),
      await newProduct({ basePrice: 5000, categoryId: casa }),
    ];
    await create({
      name: 'Roupas 20',
      code: 'ROUPA20',
      kind: 'percentage',
      value: 20,
      appliesTo: { categoryIds: [roupas] },
    });
    const frete = await create({
      name: 'Frete grátis',
      automatic: true,
      kind: 'free_shipping',
      minSubtotal: 19900,
    });
    const lines = [
      { key: 'a', productId: a, unitPrice: 3333, quantity: 3 },
      { key: 'b', productId: b, unitPrice: 1999, quantity: 1 },
      { key: 'c', productId: c, unitPrice: 5000, quantity: 1 },
    ];
    const q = await promotions().quote({ lines, shipping: 2490, codes: ['roupa20'], buyer: {} });
    expect(q.itemDiscount).toBe(2399);
    expect(q.lines).toEqual([
      { key: 'a', discountAmount: 1999 },
      { key: 'b', discountAmount: 400 },
      { key: 'c', discountAmount: 0 },
    ]);
    expect(q.lines.reduce((s, l) => s + l.discountAmount, 0)).toBe(q.itemDiscount);
    // 16998 is below the free-shipping threshold: the freight stays, with the reason.
    expect(q.shippingDiscount).toBe(0);
    expect(q.notApplied).toContainEqual({ promotionId: frete.id, reason: 'min_subtotal' });
    const big = await promotions().quote({
      lines: [...lines, { key: 'd', productId: c, unitPrice: 5000, quantity: 1 }],
      shipping: 2490,
      codes: [],
      buyer: {},
    });
    expect(big.shippingDiscount).toBe(2490);
    expect(big.itemDiscount).toBe(0);
    expect(big.discounts).toContainEqual({
      promotionId: frete.id,
      name: 'Frete grátis',
      amount: 2490,
      target: 'shipping',
    });
  });
});
