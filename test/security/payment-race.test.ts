/**
 * Attack (or bad luck): the order is cancelled — by its owner, an admin or the expiry job — while
 * its payment is with the provider. The charge used to be lost: the transition threw, everything
 * rolled back and the attempt stayed pending with no provider reference. Now the provider's answer
 * is recorded first, and a success that cannot confirm the order is refunded by itself, or flagged
 * `refund_required` for a person when the refund fails.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';

describe('a charge that lands on a cancelled order is never lost', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, newProduct, order } = api(() => t);

  /** Places an order, starts paying it with `token`, and cancels the order while the provider works. */
  async function cancelWhilePaying(token: string) {
    const productId = await newProduct({ availableQuantity: 2 });
    const placed = (await order([{ productId, quantity: 1 }])).body as unknown as {
      id: string;
      sessionToken: string;
    };
    const paying = call<Err & { error: { details: { refundRequired: boolean } } }>(
      'POST',
      `/store/orders/${placed.id}/payments`,
      { paymentMethod: token },
      placed.sessionToken,
    );
    // While the provider is busy, the order is cancelled.
    await eventually(async () => {
      const { rowCount } = await t.db.pool.query(
        "SELECT 1 FROM payment_attempts WHERE order_id = $1 AND status = 'pending'",
        [placed.id],
      );
      expect(rowCount).toBe(1);
    });
    expect((await call('POST', `/admin/orders/${placed.id}/transition`, { to: 'cancelled' })).status).toBe(
      200,
    );
    const paid = await paying;
    const attempts = await call<{
      items: { status: string; providerReference: string | null; refundedAmount: number; amount: number }[];
    }>('GET', `/admin/orders/${placed.id}/payments`);
    const events = async (type: string) =>
      (
        await t.db.pool.query<{ n: number }>(
          'SELECT COUNT(*)::int AS n FROM outbox WHERE event_type = $1 AND aggregate_id = $2',
          [type, placed.id],
        )
      ).rows[0]!.n;
    const status = (await call<{ status: string }>('GET', `/admin/orders/${placed.id}`)).body.status;
    return { orderId: placed.id, paid, attempts: attempts.body.items, events, status };
  }

  it('gives the money back by itself, and the order ends refunded', async () => {
    const r = await cancelWhilePaying('tok_slow_800');
    expect(r.paid.status).toBe(409);
    expect(r.paid.body.error).toMatchObject({
      code: 'order_not_payable',
      details: { refundRequired: false },
    });
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]).toMatchObject({ status: 'refunded' });
    expect(r.attempts[0]!.refundedAmount).toBe(r.attempts[0]!.amount);
    expect(r.attempts[0]!.providerReference).toMatch(/^test_/);
    expect(await r.events('payment.succeeded')).toBe(1);
    expect(await r.events('payment.refunded')).toBe(1);
    expect(r.status).toBe('refunded');
  });

  it('keeps the money recorded and flags it refund_required when the refund is refused', async () => {
    const r = await cancelWhilePaying('tok_norefund_slow_800');
    expect(r.paid.status).toBe(409);
    expect(r.paid.body.error).toMatchObject({ code: 'order_not_payable', details: { refundRequired: true } });
    expect(r.attempts).toHaveLength(1);
    expect(r.attempts[0]!.status).toBe('refund_required');
    const attention = await call<{ items: { orderId: string }[] }>('GET', '/admin/payments/attention');
    expect(attention.body.items.map((a) => a.orderId)).toContain(r.orderId);
    expect(await r.events('payment.refund_required')).toBe(1);
    expect(r.status).toBe('cancelled');
  });
});
