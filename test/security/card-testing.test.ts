/**
 * Attack: card testing. A store's payment form tells a stolen-card tester which cards work: the
 * store answer carried the provider's decline code (`incorrect_cvc`, `stolen_card`), and an order
 * took 10 attempts. Now the store answer says `card_declined` only; the detail goes to the log (no
 * personal data) and to the admin view of the attempt; an order takes 5 attempts by default.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { capturedLogger } from '../helpers/log-sink.ts';

describe('card testing', () => {
  let t: TestApp;
  const { logger, lines } = capturedLogger();
  beforeAll(async () => {
    t = await createTestApp({}, { logger });
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  it('answers card_declined only; the provider reason is in the log and the admin view', async () => {
    const p = await newProduct({ availableQuantity: 3 });
    const token = await customer('tester@example.com');
    const order = (
      await call<{ id: string }>('POST', '/store/orders', { items: [{ productId: p, quantity: 1 }] }, token)
    ).body;
    for (const code of ['incorrect_cvc', 'stolen_card']) {
      const res = await t.server.inject({
        method: 'POST',
        url: `/store/orders/${order.id}/payments`,
        headers: { authorization: `Bearer ${token}` },
        payload: { paymentMethod: `tok_fail_${code}` },
      });
      expect(res.statusCode).toBe(402);
      expect(res.json<Err>().error).toMatchObject({
        code: 'payment_failed',
        details: { reason: 'card_declined' },
      });
      expect(res.body).not.toContain(code);
    }
    const admin = await call<{ items: { failureReason: string }[] }>(
      'GET',
      `/admin/orders/${order.id}/payments`,
    );
    expect(admin.body.items.map((a) => a.failureReason)).toEqual(['incorrect_cvc', 'stolen_card']);
    const declines = lines.filter((l) => l.includes('payment declined'));
    expect(declines.join('\n')).toContain('incorrect_cvc');
    expect(declines.join('\n')).toContain('stolen_card');
    expect(declines.join('\n')).not.toMatch(/tester@example\.com/);
  });

  it('takes at most 5 attempts per order by default', async () => {
    const p = await newProduct({ availableQuantity: 3 });
    const token = await customer('tester-2@example.com');
    const order = (
      await call<{ id: string }>('POST', '/store/orders', { items: [{ productId: p, quantity: 1 }] }, token)
    ).body;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push(
        (
          await call(
            'POST',
            `/store/orders/${order.id}/payments`,
            { paymentMethod: `tok_fail_declined_${i}` },
            token,
          )
        ).status,
      );
    expect(statuses).toEqual([402, 402, 402, 402, 402, 409]);
  });
});
