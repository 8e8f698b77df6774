/**
 * Attack surface: refunds counted twice. A refund that succeeded added its amount to the attempt's
 * refunded total, and Stripe's `charge.refunded` set that total to its own `amount_refunded`,
 * which already included it; depending on the order of events a 50 % refund became 100 % (the
 * order refunded, its stock released, nothing more refundable). A late `pending` moved a succeeded
 * refund back, and refund keys were matched by prefix (`a` found the refunds of `a:b`).
 *
 * Now the refunded amount is derived (the succeeded refunds, or the provider's reported total when
 * larger), refund statuses only move forward, and keys match exactly. Every ordering of the API
 * call's answer and the three Stripe events is replayed through the official SDK against the
 * local Stripe endpoint.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';
import { startStripeEndpoint, stripeAppEnv, type StripeEndpoint } from '../helpers/stripe-endpoint.ts';

const SECRET = 'whsec_localrefundsecret';
type Step = 'answer' | 'created' | 'succeeded' | 'charge';

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

interface Attempt {
  status: string;
  refundedAmount: number;
  providerReference: string;
  refunds: { amount: number; status: string }[];
}

describe('refund accounting cannot count twice', () => {
  let t: TestApp;
  let stripe: StripeEndpoint;
  beforeAll(async () => {
    stripe = await startStripeEndpoint(SECRET);
    t = await createTestApp(stripeAppEnv(stripe, SECRET));
  });
  afterAll(async () => {
    await t?.close();
    await stripe?.close();
  });
  const { call, newProduct, order } = api(() => t);

  /** A confirmed order of 10,000 paid by card. */
  async function paidOrder(): Promise<{ id: string; reference: string }> {
    const productId = await newProduct({ basePrice: 5000, availableQuantity: 10 });
    const placed = (await order([{ productId, quantity: 2 }])).body as unknown as {
      id: string;
      sessionToken: string;
    };
    const paid = await call<{ order: { status: string } }>(
      'POST',
      `/store/orders/${placed.id}/payments`,
      { method: 'card', paymentMethod: 'pm_card_visa' },
      placed.sessionToken,
    );
    expect(paid.status).toBe(201);
    return { id: placed.id, reference: (await attemptOf(placed.id)).providerReference };
  }
  const attemptOf = async (orderId: string) =>
    (await call<{ items: Attempt[] }>('GET', `/admin/orders/${orderId}/payments`)).body.items[0]!;
  const statusOf = async (id: string) =>
    (await call<{ status: string }>('GET', `/admin/orders/${id}`)).body.status;
  const refund = (orderId: string, body: object, key: string) =>
    call<{ refunds: { amount: number }[] } & Err>(
      'POST',
      `/admin/orders/${orderId}/refunds`,
      body,
      undefined,
      {
        'idempotency-key': key,
      },
    );
  const deliver = async (type: string, object: Record<string, unknown>) => {
    const d = stripe.event(type, object);
    const res = await t.server.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': d.signature },
      payload: d.body,
    });
    expect(res.statusCode).toBe(200);
  };
  const refundedEvents = async (orderId: string) =>
    (
      await t.db.pool.query<{ total: number }>(
        `SELECT COALESCE(SUM((payload->>'amount')::int), 0)::int AS total FROM outbox
          WHERE event_type = 'payment.refunded' AND aggregate_id = $1`,
        [orderId],
      )
    ).rows[0]!.total;

  for (const steps of permutations<Step>(['answer', 'created', 'succeeded', 'charge'])) {
    it(`a half refund stays half: ${steps.join(' -> ')}`, async () => {
      const o = await paidOrder();
      stripe.refundStatus = 'pending';
      let release!: () => void;
      stripe.holdRefundAnswers = new Promise<void>((r) => (release = r));
      const asked = refund(o.id, { amount: 5000 }, `half-${o.id}`);
      // Stripe made the refund; its answer to ShopFlow is held until the 'answer' step.
      const made = await eventually(() => {
        const r = [...stripe.refunds.values()].find((x) => x.payment_intent === o.reference);
        expect(r).toBeDefined();
        return r!;
      });
      for (const step of steps) {
        if (step === 'answer') {
          release();
          stripe.holdRefundAnswers = undefined;
          expect((await asked).status).toBe(201);
        } else if (step === 'created') await deliver('refund.created', { ...made, status: 'pending' });
        else if (step === 'succeeded') await deliver('refund.updated', { ...made, status: 'succeeded' });
        else
          await deliver('charge.refunded', {
            id: `ch_${o.reference}`,
            object: 'charge',
            payment_intent: o.reference,
            amount_refunded: 5000,
          });
      }
      const a = await attemptOf(o.id);
      expect(a.refundedAmount).toBe(5000);
      expect(a.status).toBe('succeeded');
      expect(a.refunds).toEqual([expect.objectContaining({ amount: 5000, status: 'succeeded' })]);
      expect(await refundedEvents(o.id)).toBe(5000);
      expect(await statusOf(o.id)).toBe('confirmed');

      // The other half, answered at once, and Stripe's cumulative total: now all of it is back.
      stripe.refundStatus = 'succeeded';
      expect((await refund(o.id, {}, `rest-${o.id}`)).status).toBe(201);
      await deliver('charge.refunded', {
        id: `ch_${o.reference}`,
        object: 'charge',
        payment_intent: o.reference,
        amount_refunded: 10_000,
      });
      const whole = await attemptOf(o.id);
      expect(whole).toMatchObject({ refundedAmount: 10_000, status: 'refunded' });
      expect(await refundedEvents(o.id)).toBe(10_000);
      expect(await statusOf(o.id)).toBe('refunded');
    });
  }

  it('a refund made in the dashboard counts through the provider total, once', async () => {
    const o = await paidOrder();
    stripe.refundStatus = 'succeeded';
    expect((await refund(o.id, { amount: 3000 }, `ours-${o.id}`)).status).toBe(201);
    // Stripe: ours (3,000) and one of 2,000 made in its dashboard.
    const charge = { id: `ch_${o.reference}`, object: 'charge', payment_intent: o.reference };
    await deliver('charge.refunded', { ...charge, amount_refunded: 5000 });
    await deliver('charge.refunded', { ...charge, amount_refunded: 3000 }); // late and smaller
    expect(await attemptOf(o.id)).toMatchObject({ refundedAmount: 5000, status: 'succeeded' });
    // What is left to refund is what Stripe still holds.
    const over = await refund(o.id, { amount: 5001 }, `over-${o.id}`);
    expect(over.body.error.code).toBe('refund_exceeds_payment');
  });

  it('matches refund keys exactly: the key `a` is not the key `a:b`', async () => {
    const o = await paidOrder();
    stripe.refundStatus = 'succeeded';
    expect((await refund(o.id, { amount: 1000 }, `k:${o.id}:b`)).status).toBe(201);
    const second = await refund(o.id, { amount: 1000 }, `k:${o.id}`);
    expect(second.status).toBe(201);
    expect(await attemptOf(o.id)).toMatchObject({ refundedAmount: 2000 });
    expect((await attemptOf(o.id)).refunds).toHaveLength(2);
  });
});
