/**
 * The payment port's contract, run against every provider through the whole app: the test
 * provider, Stripe (its SDK against the local recording endpoint) and Mercado Pago (its SDK against
 * the local recording endpoint). Whatever the provider, a payer and an admin see the same thing:
 * the same statuses and HTTP answers, the same refusal codes, the same domain events in the same
 * order, the same refund accounting. A provider that answers differently fails here.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { startStripeEndpoint, stripeAppEnv, type StripeEndpoint } from '../helpers/stripe-endpoint.ts';
import {
  mercadoPagoAppEnv,
  startMercadoPagoEndpoint,
  type MercadoPagoEndpoint,
} from '../helpers/mercadopago-endpoint.ts';

interface Attempt {
  id: string;
  status: string;
  amount: number;
  refundedAmount: number;
  providerReference: string | null;
  failureReason: string | null;
  nextAction: Record<string, string> | null;
}

const PAYER = { name: 'Maria da Silva', email: 'maria@example.com', taxId: '123.456.789-09' };
const ADDRESS = {
  line1: 'Rua Augusta',
  number: '100',
  district: 'Consolação',
  city: 'São Paulo',
  state: 'SP',
  postalCode: '01304-000',
  country: 'BR',
};

interface Provider {
  name: string;
  env: Record<string, string>;
  cards: { approved: string; declined: string };
  /** The payer pays a pending PIX and the provider tells ShopFlow (signed webhook); none for `test`. */
  settle?: (t: TestApp, reference: string) => Promise<void>;
  close(): Promise<void>;
}

const STRIPE_SECRET = 'whsec_contractsecret';
const MP_SECRET = 'mp-contract-webhook-secret-000000';

const providers: (() => Promise<Provider>)[] = [
  () =>
    Promise.resolve({
      name: 'test',
      env: { PAYMENT_PROVIDER: 'test' },
      cards: { approved: 'tok_visa', declined: 'tok_fail_card_declined' },
      close: () => Promise.resolve(),
    }),
  async () => {
    const stripe: StripeEndpoint = await startStripeEndpoint(STRIPE_SECRET);
    return {
      name: 'stripe',
      env: stripeAppEnv(stripe, STRIPE_SECRET),
      cards: { approved: 'pm_card_visa', declined: 'pm_card_chargeDeclined' },
      settle: async (t, reference) => {
        const delivery = stripe.event('payment_intent.succeeded', stripe.setStatus(reference, 'succeeded'));
        const res = await t.server.inject({
          method: 'POST',
          url: '/webhooks/stripe',
          headers: { 'content-type': 'application/json', 'stripe-signature': delivery.signature },
          payload: delivery.body,
        });
        expect(res.statusCode).toBe(200);
      },
      close: () => stripe.close(),
    };
  },
  async () => {
    const mp: MercadoPagoEndpoint = await startMercadoPagoEndpoint(MP_SECRET);
    return {
      name: 'mercadopago',
      env: mercadoPagoAppEnv(mp, MP_SECRET),
      cards: { approved: 'tok_approved', declined: 'tok_rejected' },
      settle: async (t, reference) => {
        mp.setStatus(reference, 'approved');
        const n = mp.notification(reference);
        const res = await t.server.inject({
          method: 'POST',
          url: `/webhooks/mercadopago?${n.query}`,
          headers: n.headers,
          payload: n.body,
        });
        expect(res.statusCode).toBe(200);
      },
      close: () => mp.close(),
    };
  },
];

const NAMES = ['test', 'stripe', 'mercadopago'];

describe.each(providers.map((make, i) => ({ make, name: NAMES[i]! })))(
  'payment provider contract: $name',
  ({ make }) => {
    let t: TestApp;
    let p: Provider;
    beforeAll(async () => {
      p = await make();
      t = await createTestApp(p.env);
    });
    afterAll(async () => {
      await t?.close();
      await p?.close();
    });
    const { call, newProduct, order } = api(() => t);

    async function placed(price = 5000, quantity = 2) {
      const productId = await newProduct({ basePrice: price, availableQuantity: 10 });
      const res = await order([{ productId, quantity }]);
      const body = res.body as unknown as { id: string; sessionToken: string; totalAmount: number };
      return { id: body.id, token: body.sessionToken, total: body.totalAmount };
    }
    const pay = (o: { id: string; token: string }, body: Record<string, unknown>) =>
      call<{ attempt: Attempt; order: { status: string } } & Err>(
        'POST',
        `/store/orders/${o.id}/payments`,
        body,
        o.token,
      );
    const card = (token: string) => ({
      method: 'card',
      token,
      paymentMethodId: 'visa',
      payer: { email: PAYER.email, taxId: PAYER.taxId },
    });
    const statusOf = async (id: string) =>
      (await call<{ status: string }>('GET', `/admin/orders/${id}`)).body.status;
    const attempts = async (id: string) =>
      (await call<{ items: Attempt[] }>('GET', `/admin/orders/${id}/payments`)).body.items;
    /** The order's payment events and status changes, in the order they were recorded. */
    const events = async (orderId: string) =>
      (
        await t.db.pool.query<{ e: string }>(
          `SELECT event_type || COALESCE(':' || (payload->>'status'), '') AS e FROM outbox
            WHERE aggregate_id = $1 AND (event_type LIKE 'payment.%' OR event_type = 'order.status_changed')
            ORDER BY id`,
          [orderId],
        )
      ).rows.map((r) => r.e);

    it('an approved card: 201, the attempt succeeded for the order total, the order confirmed, the same events', async () => {
      const o = await placed();
      const res = await pay(o, card(p.cards.approved));
      expect(res.status).toBe(201);
      expect(res.body.attempt).toMatchObject({ status: 'succeeded', amount: o.total, refundedAmount: 0 });
      expect(res.body.attempt.providerReference).toEqual(expect.any(String));
      expect(res.body.order.status).toBe('confirmed');
      expect(await events(o.id)).toEqual(['payment.succeeded', 'order.status_changed:confirmed']);
    });

    it('a declined card: 402 payment_failed with reason card_declined, the attempt failed, the order pending', async () => {
      const o = await placed();
      const res = await pay(o, card(p.cards.declined));
      expect(res.status).toBe(402);
      expect(res.body.error).toMatchObject({ code: 'payment_failed', details: { reason: 'card_declined' } });
      const [a] = await attempts(o.id);
      expect(a).toMatchObject({ status: 'failed' });
      expect(a!.failureReason).toEqual(expect.any(String));
      expect(await statusOf(o.id)).toBe('pending');
      expect(await events(o.id)).toEqual(['payment.failed']);
    });

    it('PIX: 202 with a copy-paste code and its expiry; the order stays pending until the provider says it was paid', async () => {
      const o = await placed();
      const res = await pay(o, { method: 'pix', payer: { email: PAYER.email } });
      expect(res.status).toBe(202);
      const action = res.body.attempt.nextAction!;
      expect(action.type).toBe('pix');
      expect(action.code).toMatch(/\S{10,}/);
      expect(Math.abs(new Date(action.expiresAt!).getTime() - (Date.now() + 30 * 60_000))).toBeLessThan(
        60_000,
      );
      expect(await statusOf(o.id)).toBe('pending');
      expect(await events(o.id)).toEqual([]);
      if (!p.settle) return; // nothing can pay the test provider's PIX
      await p.settle(t, res.body.attempt.providerReference!);
      expect(await statusOf(o.id)).toBe('confirmed');
      expect(await events(o.id)).toEqual(['payment.succeeded', 'order.status_changed:confirmed']);
    });

    it('a boleto: the same 400 naming the field for a missing or invalid document; 202 with its line and due date', async () => {
      const o = await placed();
      const missing = await pay(o, {
        method: 'boleto',
        payer: { name: PAYER.name, email: PAYER.email, address: ADDRESS },
      });
      expect(missing.status).toBe(400);
      expect(JSON.stringify(missing.body.error)).toContain('taxId');
      const invalid = await pay(o, {
        method: 'boleto',
        payer: { ...PAYER, taxId: '111.111.111-12', address: ADDRESS },
      });
      expect(invalid.status).toBe(400);
      expect(invalid.body.error.code).toBe('invalid_request');
      expect(JSON.stringify(invalid.body.error)).toContain('taxId');
      const res = await pay(o, { method: 'boleto', payer: { ...PAYER, address: ADDRESS } });
      expect(res.status).toBe(202);
      expect(res.body.attempt.nextAction).toMatchObject({
        type: 'boleto',
        number: expect.any(String) as string,
      });
      expect(await attempts(o.id)).toHaveLength(1);
    });

    it('refunds: part, then the rest; the amounts add up to what was paid and the order is refunded only at the end', async () => {
      const o = await placed(5000, 2);
      expect((await pay(o, card(p.cards.approved))).status).toBe(201);
      const refund = (body: object, key: string) =>
        call<{ refunds: { amount: number; status: string }[] } & Err>(
          'POST',
          `/admin/orders/${o.id}/refunds`,
          body,
          undefined,
          { 'idempotency-key': key },
        );
      const part = await refund({ amount: 2500 }, `contract-${p.name}-1`);
      expect(part.status).toBe(201);
      expect(part.body.refunds).toEqual([expect.objectContaining({ amount: 2500, status: 'succeeded' })]);
      expect(await statusOf(o.id)).toBe('confirmed');
      const over = await refund({ amount: 9000 }, `contract-${p.name}-2`);
      expect(over.status).toBe(409);
      expect(over.body.error.code).toBe('refund_exceeds_payment');
      const rest = await refund({}, `contract-${p.name}-3`);
      expect(rest.body.refunds).toEqual([expect.objectContaining({ amount: 7500, status: 'succeeded' })]);
      expect(await statusOf(o.id)).toBe('refunded');
      expect((await attempts(o.id))[0]).toMatchObject({
        status: 'refunded',
        amount: 10000,
        refundedAmount: 10000,
      });
      expect(await events(o.id)).toEqual([
        'payment.succeeded',
        'order.status_changed:confirmed',
        'payment.refunded',
        'payment.refunded',
        'order.status_changed:cancelled',
        'order.status_changed:refunded',
      ]);
    });

    it('installments: the plans answer for every provider; one that cannot split refuses more than 1 with the same code', async () => {
      const o = await placed(30000, 1);
      const plans = await call<{ options: { count: number; total: number }[] }>(
        'GET',
        `/store/orders/${o.id}/installments`,
        undefined,
        o.token,
      );
      expect(plans.status).toBe(200);
      expect(plans.body.options[0]).toMatchObject({ count: 1, total: 30000 });
      const res = await pay(o, { ...card(p.cards.approved), installments: 2 });
      if (plans.body.options.some((x) => x.count === 2)) {
        expect(res.status).toBe(201);
        expect(res.body.attempt.amount).toBe(plans.body.options[1]!.total);
      } else {
        expect(res.status).toBe(422);
        expect(res.body.error.code).toBe('installments_unavailable');
      }
    });
  },
);
