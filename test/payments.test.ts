import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';

describe('payments', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  it('records every payment attempt; a refusal keeps the order pending, a success confirms it', async () => {
    const p = await newProduct({ name: 'Fone Bluetooth', basePrice: 19990, availableQuantity: 10 });
    const token = await customer('pagadora@example.com');
    const order = (
      await call<{ id: string }>('POST', '/store/orders', { items: [{ productId: p, quantity: 2 }] }, token)
    ).body;

    const refused = await call<Err>(
      'POST',
      `/store/orders/${order.id}/payments`,
      { paymentMethod: 'tok_fail_card_declined' },
      token,
    );
    expect(refused.status).toBe(402);
    expect(refused.body.error).toMatchObject({
      code: 'payment_failed',
      details: { reason: 'card_declined' },
    });
    expect(
      (await call<{ status: string }>('GET', `/store/orders/${order.id}`, undefined, token)).body.status,
    ).toBe('pending');

    const paid = await call<{
      attempt: { status: string; amount: number; providerReference: string };
      order: { status: string };
    }>('POST', `/store/orders/${order.id}/payments`, { paymentMethod: 'tok_visa' }, token);
    expect(paid.status).toBe(201);
    expect(paid.body).toMatchObject({
      attempt: { status: 'succeeded', amount: 39980 },
      order: { status: 'confirmed' },
    });
    expect(
      (await call<Err>('POST', `/store/orders/${order.id}/payments`, { paymentMethod: 'tok_visa' }, token))
        .body.error.code,
    ).toBe('order_not_payable');

    const attempts = await call<{ items: { status: string; failureReason: string | null }[] }>(
      'GET',
      `/admin/orders/${order.id}/payments`,
    );
    expect(attempts.body.items.map((a) => [a.status, a.failureReason])).toEqual([
      ['failed', 'card_declined'],
      ['succeeded', null],
    ]);
    // Someone else cannot pay (or see) it.
    const other = await customer('outra@example.com');
    expect(
      (await call('POST', `/store/orders/${order.id}/payments`, { paymentMethod: 'tok_visa' }, other)).status,
    ).toBe(404);
  });
});

describe('payment attempts per order (card testing)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  it('refuses the sixth attempt on one order, after five declined cards (the default), and writes nothing', async () => {
    const p = await newProduct({ availableQuantity: 3 });
    const token = await customer('testadora@example.com');
    const order = (
      await call<{ id: string }>('POST', '/store/orders', { items: [{ productId: p, quantity: 1 }] }, token)
    ).body;
    for (let i = 0; i < 5; i++)
      expect(
        (
          await call(
            'POST',
            `/store/orders/${order.id}/payments`,
            { paymentMethod: `tok_fail_declined_${i}` },
            token,
          )
        ).status,
      ).toBe(402);
    const refused = await call<Err>(
      'POST',
      `/store/orders/${order.id}/payments`,
      { paymentMethod: 'tok_visa' },
      token,
    );
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('too_many_payment_attempts');
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM payment_attempts WHERE order_id = $1',
      [order.id],
    );
    expect(rows[0]!.n).toBe(5);
  });
});
