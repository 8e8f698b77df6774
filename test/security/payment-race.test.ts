/**
 * Attack (or bad luck): the order is cancelled — by its owner, an admin or the expiry job — while
 * its payment is with the provider. The charge used to be lost: the transition threw, everything
 * rolled back and the attempt stayed pending with no provider reference. Now the provider's answer
 * is recorded first, and a success that cannot confirm the order is flagged for a refund.
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

  it('keeps the money recorded, flags it refund_required, lists it, and tells the payer', async () => {
    const productId = await newProduct({ availableQuantity: 2 });
    const placed = (await order([{ productId, quantity: 1 }])).body as unknown as {
      id: string;
      sessionToken: string;
    };
    const paying = call<Err & { error: { details: { refundRequired: boolean } } }>(
      'POST',
      `/store/orders/${placed.id}/payments`,
      { paymentMethod: 'tok_slow_800' },
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
    expect(paid.status).toBe(409);
    expect(paid.body.error).toMatchObject({ code: 'order_not_payable', details: { refundRequired: true } });
    const attempts = await call<{ items: { status: string; providerReference: string | null }[] }>(
      'GET',
      `/admin/orders/${placed.id}/payments`,
    );
    expect(attempts.body.items).toHaveLength(1);
    expect(attempts.body.items[0]!.status).toBe('refund_required');
    expect(attempts.body.items[0]!.providerReference).toMatch(/^test_/);
    const attention = await call<{ items: { orderId: string }[] }>('GET', '/admin/payments/attention');
    expect(attention.body.items.map((a) => a.orderId)).toContain(placed.id);
    const { rows } = await t.db.pool.query<{ n: number }>(
      "SELECT COUNT(*)::int AS n FROM outbox WHERE event_type = 'payment.refund_required' AND aggregate_id = $1",
      [placed.id],
    );
    expect(rows[0]!.n).toBe(1);
    const orderNow = await call<{ status: string }>('GET', `/admin/orders/${placed.id}`);
    expect(orderNow.body.status).toBe('cancelled');
  });
});
