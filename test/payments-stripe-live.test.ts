/**
 * The Stripe adapter against Stripe itself, in test mode: runs only when STRIPE_SECRET_KEY is set
 * (an `sk_test_...` key; nothing is charged). Set STRIPE_LIVE_PIX=1 as well when the account is a
 * Brazilian one with PIX enabled. Webhooks cannot reach this machine, so their part is the local
 * suite's (test/payments-stripe.test.ts); here the signature check runs on a delivery signed with
 * the same secret.
 *
 *   STRIPE_SECRET_KEY=sk_test_... npx vitest run test/payments-stripe-live.test.ts
 */
import { randomUUID } from 'node:crypto';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { StripePaymentProvider } from '../src/modules/payments/stripe-provider.ts';

const KEY = process.env.STRIPE_SECRET_KEY;
const WEBHOOK_SECRET = 'whsec_livesuitelocalonly';

describe.skipIf(!KEY?.startsWith('sk_test_'))('Stripe test mode (live)', () => {
  const provider = new StripePaymentProvider({
    secretKey: KEY ?? 'sk_test_unset',
    webhookSecret: WEBHOOK_SECRET,
    webhookToleranceSeconds: 300,
    methods: ['card', 'pix', 'boleto'],
  });

  it('charges a test card for the amount asked, finds it by attempt, refunds part of it', async () => {
    const attemptId = randomUUID();
    const paid = await provider.createPayment({
      attemptId,
      orderId: randomUUID(),
      amount: 1990,
      currency: 'BRL',
      method: 'card',
      token: 'pm_card_visa',
    });
    expect(paid).toMatchObject({ status: 'succeeded', amount: 1990, currency: 'BRL', attemptId });
    expect(await provider.retrieve(paid.reference)).toMatchObject({ status: 'succeeded' });
    // The same attempt again is the same payment (idempotency key), not a second charge.
    const again = await provider.createPayment({
      attemptId,
      orderId: paid.orderId!,
      amount: 1990,
      currency: 'BRL',
      method: 'card',
      token: 'pm_card_visa',
    });
    expect(again.reference).toBe(paid.reference);
    const refund = await provider.refund({
      reference: paid.reference,
      amount: 500,
      idempotencyKey: `live:${attemptId}`,
      reason: 'test',
    });
    expect(refund.status).toBe('succeeded');
    expect(
      await provider.refund({
        reference: paid.reference,
        amount: 5000,
        idempotencyKey: randomUUID(),
        reason: 'test',
      }),
    ).toMatchObject({
      status: 'failed',
    });
  });

  it('answers a declined card as a failed state with the reason', async () => {
    const declined = await provider.createPayment({
      attemptId: randomUUID(),
      orderId: randomUUID(),
      amount: 1990,
      currency: 'BRL',
      method: 'card',
      token: 'pm_card_chargeDeclined',
    });
    expect(declined).toMatchObject({ status: 'failed', reason: 'generic_decline' });
  });

  it.skipIf(!process.env.STRIPE_LIVE_PIX)('answers a PIX code with its expiry, and cancels it', async () => {
    const expiresAt = new Date(Date.now() + 30 * 60_000);
    const pix = await provider.createPayment({
      attemptId: randomUUID(),
      orderId: randomUUID(),
      amount: 1990,
      currency: 'BRL',
      method: 'pix',
      expiresAt,
    });
    expect(pix.status).toBe('pending');
    expect(pix.nextAction).toMatchObject({ type: 'pix' });
    expect((await provider.cancel(pix.reference)).status).toBe('failed');
  });

  it('verifies a delivery signed with the endpoint secret and refuses a forged one', () => {
    const body = JSON.stringify({
      id: 'evt_live_suite',
      object: 'event',
      type: 'customer.created',
      data: { object: { id: 'cus_1', object: 'customer' } },
    });
    const helper = new Stripe(KEY ?? 'sk_test_unset');
    const good = helper.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
    const bad = helper.webhooks.generateTestHeaderString({ payload: body, secret: 'whsec_other' });
    expect(provider.parseWebhook(Buffer.from(body), { 'stripe-signature': good })).toMatchObject({
      kind: 'ignored',
    });
    expect(() => provider.parseWebhook(Buffer.from(body), { 'stripe-signature': bad })).toThrow();
  });

  describe('through ShopFlow', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({
        PAYMENT_PROVIDER: 'stripe',
        STRIPE_SECRET_KEY: KEY ?? '',
        STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
        PAYMENT_METHODS: 'card',
      });
    });
    afterAll(async () => t?.close());
    const { call, newProduct, order } = api(() => t);

    it('confirms an order paid with a test card, and refunds it whole (the order ends refunded)', async () => {
      const productId = await newProduct({ basePrice: 2590, availableQuantity: 3 });
      const placed = (await order([{ productId, quantity: 1 }])).body as unknown as {
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
      expect(paid.body.order.status).toBe('confirmed');
      const refunded = await call('POST', `/admin/orders/${placed.id}/refunds`, {}, undefined, {
        'idempotency-key': randomUUID(),
      });
      expect(refunded.status).toBe(201);
      expect((await call<{ status: string }>('GET', `/admin/orders/${placed.id}`)).body.status).toBe(
        'refunded',
      );
    });
  });
});
