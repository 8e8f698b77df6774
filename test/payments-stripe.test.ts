/**
 * The Stripe adapter, end to end: ShopFlow with PAYMENT_PROVIDER=stripe, the official SDK pointed
 * at a local endpoint that answers like api.stripe.com and records what the SDK sent; webhooks
 * signed with the SDK's own test-header helper. What is checked is what a payment system owes:
 * an order is confirmed only by money received for its exact amount, forged or stale deliveries
 * change nothing, an event counts once, and money for an order that cannot keep it goes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import { startStripeEndpoint, stripeAppEnv, type StripeEndpoint } from './helpers/stripe-endpoint.ts';

const SECRET = 'whsec_localtestsecret';

interface Attempt {
  id: string;
  status: string;
  method: string;
  amount: number;
  refundedAmount: number;
  providerReference: string | null;
  attentionReason: string | null;
  failureReason: string | null;
  nextAction: Record<string, string> | null;
  refunds: { amount: number; status: string; reason: string }[];
}

describe('payments through Stripe (SDK against a local recording endpoint)', () => {
  let t: TestApp;
  let stripe: StripeEndpoint;
  beforeAll(async () => {
    stripe = await startStripeEndpoint(SECRET);
    t = await createTestApp({ ...stripeAppEnv(stripe, SECRET), PAYMENT_RECONCILE_AFTER_MINUTES: '1' });
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await stripe?.close();
  });
  const { call, newProduct, order } = api(() => t);

  /** A guest order of `quantity` units of a new product priced `price`. */
  async function placed(price = 12990, quantity = 2, stock = 5) {
    const productId = await newProduct({ basePrice: price, availableQuantity: stock });
    const res = await order([{ productId, quantity }]);
    const body = res.body as unknown as { id: string; sessionToken: string; totalAmount: number };
    return { productId, id: body.id, token: body.sessionToken, total: body.totalAmount };
  }
  const pay = (o: { id: string; token: string }, body: Record<string, unknown>) =>
    call<{ attempt: Attempt; order: { status: string } } & Err>(
      'POST',
      `/store/orders/${o.id}/payments`,
      body,
      o.token,
    );
  const webhook = (delivery: { body: string; signature: string }, signature = delivery.signature) =>
    t.server.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      payload: delivery.body,
    });
  const statusOf = async (id: string) =>
    (await call<{ status: string }>('GET', `/admin/orders/${id}`)).body.status;
  const attempts = async (id: string) =>
    (await call<{ items: Attempt[] }>('GET', `/admin/orders/${id}/payments`)).body.items;
  const stock = async (productId: string) =>
    (
      await t.db.pool.query<{ available_quantity: number; reserved_quantity: number }>(
        'SELECT available_quantity, reserved_quantity FROM inventory WHERE product_id = $1',
        [productId],
      )
    ).rows[0]!;
  const events = async (type: string, orderId: string) =>
    (
      await t.db.pool.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM outbox WHERE event_type = $1 AND aggregate_id = $2',
        [type, orderId],
      )
    ).rows[0]!.n;
  const confirmations = async (orderId: string) =>
    (
      await t.db.pool.query<{ n: number }>(
        `SELECT COUNT(*)::int AS n FROM outbox WHERE event_type = 'order.status_changed'
           AND aggregate_id = $1 AND payload->>'status' = 'confirmed'`,
        [orderId],
      )
    ).rows[0]!.n;

  it('sends the order amount, currency, metadata and the attempt id as idempotency key; a card that needs 3-D Secure waits for the signed webhook', async () => {
    const o = await placed(12990, 2);
    const before = stripe.requests.length;
    const res = await pay(o, { method: 'card', paymentMethod: 'pm_card_authenticationRequired', amount: 1 });
    // The client cannot name an amount: the body is strict.
    expect(res.status).toBe(400);
    const started = await pay(o, { method: 'card', paymentMethod: 'pm_card_authenticationRequired' });
    expect(started.status).toBe(202);
    expect(started.body.attempt.nextAction).toMatchObject({ type: 'card_authentication' });
    const sent = stripe.requests.slice(before).find((r) => r.path === '/v1/payment_intents')!;
    expect(sent.params).toMatchObject({
      amount: String(o.total),
      currency: 'brl',
      confirm: 'true',
      payment_method: 'pm_card_authenticationRequired',
      'metadata[orderId]': o.id,
      'metadata[attemptId]': started.body.attempt.id,
      'allowed_payment_method_types[0]': 'card',
    });
    expect(sent.idempotencyKey).toBe(started.body.attempt.id);
    expect(sent.authorization).toBe('Bearer sk_test_shopflowlocal');
    expect(await statusOf(o.id)).toBe('pending');

    // The payer authenticates; Stripe tells us.
    const pi = stripe.setStatus(started.body.attempt.providerReference!, 'succeeded');
    const delivery = stripe.event('payment_intent.succeeded', pi);
    // Forged: the same body signed with another secret; tampered: another body under the signature.
    expect(
      (await webhook(stripe.event('payment_intent.succeeded', pi, { secret: 'whsec_attacker' }))).statusCode,
    ).toBe(400);
    const tampered = await webhook({
      // One character of the order id changed (to another one, whatever it was).
      body: delivery.body.replace(o.id, o.id.slice(0, -1) + (o.id.endsWith('0') ? '1' : '0')),
      signature: delivery.signature,
    });
    expect(tampered.statusCode).toBe(400);
    expect(tampered.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    // Stale: signed ten minutes ago, outside the five-minute window.
    const stale = stripe.event('payment_intent.succeeded', pi, { at: Math.floor(Date.now() / 1000) - 600 });
    expect((await webhook(stale)).statusCode).toBe(400);
    const unsigned = await t.server.inject({
      method: 'POST',
      url: '/webhooks/stripe',
      headers: { 'content-type': 'application/json' },
      payload: delivery.body,
    });
    expect(unsigned.statusCode).toBe(400);
    expect(await statusOf(o.id)).toBe('pending');
    const { rows } = await t.db.pool.query('SELECT event_id FROM payment_events WHERE event_id = ANY($1)', [
      [stale.id],
    ]);
    expect(rows).toHaveLength(0);

    // The real delivery confirms; delivered again, it is acknowledged and changes nothing.
    const first = await webhook(delivery);
    expect(first.statusCode).toBe(200);
    expect(await statusOf(o.id)).toBe('confirmed');
    const again = await webhook(delivery);
    expect(again.json()).toEqual({ received: true, duplicate: true });
    expect(await confirmations(o.id)).toBe(1);
    // A late failure (out of order) does not undo the success.
    const late = await webhook(
      stripe.event('payment_intent.payment_failed', { ...pi, status: 'requires_payment_method' }),
    );
    expect(late.statusCode).toBe(200);
    expect((await attempts(o.id))[0]!.status).toBe('succeeded');
    expect(await statusOf(o.id)).toBe('confirmed');
  });

  it('a card paid at once confirms the order; a declined one is 402 and keeps it pending', async () => {
    const o = await placed(4990, 1);
    const declined = await pay(o, { method: 'card', paymentMethod: 'pm_card_chargeDeclined' });
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({
      code: 'payment_failed',
      details: { reason: 'card_declined' },
    });
    // Stripe's decline code is for the admin, not the payer.
    expect((await attempts(o.id))[0]!.failureReason).toBe('generic_decline');
    expect(await statusOf(o.id)).toBe('pending');
    const paid = await pay(o, { method: 'card', paymentMethod: 'pm_card_visa' });
    expect(paid.status).toBe(201);
    expect(paid.body.order.status).toBe('confirmed');
    expect((await attempts(o.id)).map((a) => a.status)).toEqual(['failed', 'succeeded']);
  });

  it('does not confirm an order for a different amount or currency: the payment is listed for a person', async () => {
    const o = await placed(10000, 1);
    const started = await pay(o, { method: 'pix' });
    const pi = stripe.setStatus(started.body.attempt.providerReference!, 'succeeded', 100);
    expect((await webhook(stripe.event('payment_intent.succeeded', pi))).statusCode).toBe(200);
    expect(await statusOf(o.id)).toBe('pending');
    const attention = await call<{ items: { orderId: string; attentionReason: string }[] }>(
      'GET',
      '/admin/payments/attention',
    );
    expect(attention.body.items.find((a) => a.orderId === o.id)?.attentionReason).toMatch(/amount_mismatch/);
    expect(await events('payment.attention', o.id)).toBe(1);
  });

  it('PIX answers its copy-paste code and expiry, holds the stock until then, and gives it back when unpaid', async () => {
    const o = await placed(2500, 2, 5);
    const before = stripe.requests.length;
    const res = await pay(o, { method: 'pix' });
    expect(res.status).toBe(202);
    const action = res.body.attempt.nextAction!;
    expect(action).toMatchObject({ type: 'pix', code: expect.stringContaining('br.gov.bcb.pix') as string });
    const expiresAt = new Date(action.expiresAt!).getTime();
    // PIX_EXPIRY_MINUTES (30 by default) from now.
    expect(Math.abs(expiresAt - (Date.now() + 30 * 60_000))).toBeLessThan(60_000);
    const sent = stripe.requests.slice(before).find((r) => r.path === '/v1/payment_intents')!;
    expect(sent.params['payment_method_data[type]']).toBe('pix');
    expect(Number(sent.params['payment_method_options[pix][expires_at]']) * 1000).toBeCloseTo(expiresAt, -4);
    expect(await stock(o.productId)).toEqual({ available_quantity: 3, reserved_quantity: 2 });

    // Older than the default 30-minute TTL, but the PIX can still be paid: the order stays.
    await t.db.pool.query("UPDATE orders SET created_at = NOW() - interval '40 minutes' WHERE id = $1", [
      o.id,
    ]);
    await t.app.services.orders.expirePending({ ttlMinutes: 30 });
    expect(await statusOf(o.id)).toBe('pending');
    // The PIX expired unpaid (its time, plus the grace for late notices, has passed).
    await t.db.pool.query(
      "UPDATE orders SET payment_expires_at = NOW() - interval '1 second' WHERE id = $1",
      [o.id],
    );
    await t.app.services.orders.expirePending({ ttlMinutes: 30 });
    expect(await statusOf(o.id)).toBe('cancelled');
    expect(await stock(o.productId)).toEqual({ available_quantity: 5, reserved_quantity: 0 });
    // The code is cancelled at Stripe, so it can no longer be paid.
    const reference = res.body.attempt.providerReference!;
    await eventually(() => expect(stripe.intents.get(reference)!.status).toBe('canceled'));
    await eventually(async () => expect((await attempts(o.id))[0]!.status).toBe('failed'));
  });

  it('a payment that lands on a cancelled order is refunded by itself, and the order ends refunded', async () => {
    const o = await placed(3000, 1);
    const res = await pay(o, { method: 'pix' });
    const reference = res.body.attempt.providerReference!;
    // The payer pays at the last second while the order is being cancelled; the cancel at Stripe loses.
    stripe.setStatus(reference, 'succeeded');
    expect((await call('POST', `/admin/orders/${o.id}/transition`, { to: 'cancelled' })).status).toBe(200);
    const delivery = stripe.event('payment_intent.succeeded', stripe.intents.get(reference)!);
    expect((await webhook(delivery)).statusCode).toBe(200);
    await eventually(async () => expect(await statusOf(o.id)).toBe('refunded'));
    const refundCalls = stripe.requests.filter(
      (r) => r.path === '/v1/refunds' && r.params.payment_intent === reference,
    );
    // Asked by the webhook and by the cancellation: one refund, under one key.
    expect(new Set(refundCalls.map((r) => r.idempotencyKey))).toEqual(
      new Set([`release:${res.body.attempt.id}`]),
    );
    expect(refundCalls[0]!.params.amount).toBe('3000');
    const [a] = await attempts(o.id);
    expect(a).toMatchObject({ status: 'refunded', refundedAmount: 3000 });
    expect(a!.refunds).toEqual([expect.objectContaining({ amount: 3000, status: 'succeeded' })]);
    expect(await events('payment.refunded', o.id)).toBe(1);
  });

  it('a boleto answers its voucher and due date, and holds the stock for the days it can still clear', async () => {
    const o = await placed(8000, 1);
    const missing = await pay(o, { method: 'boleto' });
    expect(missing.status).toBe(400);
    const res = await pay(o, {
      method: 'boleto',
      payer: {
        name: 'Maria da Silva',
        email: 'maria@example.com',
        taxId: '123.456.789-09',
        address: {
          line1: 'Rua Augusta, 100',
          city: 'São Paulo',
          state: 'SP',
          postalCode: '01304-000',
          country: 'BR',
        },
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.attempt.nextAction).toMatchObject({
      type: 'boleto',
      voucherUrl: expect.stringContaining('boleto') as string,
    });
    const sent = stripe.requests.findLast((r) => r.path === '/v1/payment_intents')!;
    expect(sent.params).toMatchObject({
      'payment_method_data[type]': 'boleto',
      'payment_method_data[boleto][tax_id]': '12345678909',
      'payment_method_data[billing_details][address][postal_code]': '01304-000',
      'payment_method_options[boleto][expires_after_days]': '3',
    });
    const { rows } = await t.db.pool.query<{ days: number }>(
      'SELECT EXTRACT(EPOCH FROM payment_expires_at - NOW()) / 86400 AS days FROM orders WHERE id = $1',
      [o.id],
    );
    // Due in 3 days (BOLETO_EXPIRY_DAYS), plus 2 days to clear (BOLETO_CLEARING_DAYS).
    expect(Number(rows[0]!.days)).toBeCloseTo(5, 1);
    await t.db.pool.query("UPDATE orders SET created_at = NOW() - interval '2 days' WHERE id = $1", [o.id]);
    await t.app.services.orders.expirePending({ ttlMinutes: 30 });
    expect(await statusOf(o.id)).toBe('pending');
  });

  it('refunds part or all of a paid order with an Idempotency-Key, once per key', async () => {
    const o = await placed(5000, 2, 4);
    expect((await pay(o, { method: 'card', paymentMethod: 'pm_card_visa' })).status).toBe(201);
    const refund = (body: object, key?: string) =>
      call<{ refunds: { amount: number; status: string }[] } & Err>(
        'POST',
        `/admin/orders/${o.id}/refunds`,
        body,
        undefined,
        key ? { 'idempotency-key': key } : {},
      );
    expect((await refund({ amount: 1000 })).status).toBe(400);
    const part = await refund({ amount: 1000, reason: 'damaged_box' }, 'refund-1');
    expect(part.status).toBe(201);
    expect(part.body.refunds).toEqual([expect.objectContaining({ amount: 1000, status: 'succeeded' })]);
    const calls = () =>
      stripe.requests.filter((r) => r.path === '/v1/refunds' && r.params.amount === '1000').length;
    const sentOnce = calls();
    expect((await refund({ amount: 1000, reason: 'damaged_box' }, 'refund-1')).body.refunds).toEqual(
      part.body.refunds,
    );
    expect(calls()).toBe(sentOnce);
    expect((await refund({ amount: 2000 }, 'refund-1')).body.error.code).toBe('idempotency_key_reused');
    expect((await refund({ amount: 9001 }, 'refund-2')).body.error.code).toBe('refund_exceeds_payment');
    expect(await statusOf(o.id)).toBe('confirmed');
    // The rest: the money is all back, the confirmed order is cancelled (stock returns) and refunded.
    const rest = await refund({}, 'refund-3');
    expect(rest.body.refunds).toEqual([expect.objectContaining({ amount: 9000 })]);
    expect(await statusOf(o.id)).toBe('refunded');
    expect(await stock(o.productId)).toEqual({ available_quantity: 4, reserved_quantity: 0 });
    // Stripe's own notice of the cumulative refund, late and smaller, shrinks nothing.
    const reference = (await attempts(o.id))[0]!.providerReference!;
    await webhook(
      stripe.event('charge.refunded', {
        id: 'ch_1',
        object: 'charge',
        payment_intent: reference,
        amount_refunded: 1000,
      }),
    );
    expect((await attempts(o.id))[0]).toMatchObject({ status: 'refunded', refundedAmount: 10000 });
  });

  it('cancelling a paid order refunds it through Stripe; a refund Stripe refuses is listed for a person', async () => {
    const o = await placed(7000, 1);
    await pay(o, { method: 'card', paymentMethod: 'pm_card_visa' });
    expect((await call('POST', `/admin/orders/${o.id}/transition`, { to: 'cancelled' })).status).toBe(200);
    await eventually(async () => expect(await statusOf(o.id)).toBe('refunded'));

    const refused = await placed(7000, 1);
    await pay(refused, { method: 'card', paymentMethod: 'pm_card_visa' });
    stripe.refuseRefunds = true;
    try {
      await call('POST', `/admin/orders/${refused.id}/transition`, { to: 'cancelled' });
      await eventually(async () => expect((await attempts(refused.id))[0]!.status).toBe('refund_required'));
    } finally {
      stripe.refuseRefunds = false;
    }
    const attention = await call<{ items: { orderId: string; failureReason: string }[] }>(
      'GET',
      '/admin/payments/attention',
    );
    expect(attention.body.items.find((a) => a.orderId === refused.id)?.failureReason).toMatch(
      /refund_failed/,
    );
    expect(await events('payment.refund_required', refused.id)).toBe(1);
    expect(await statusOf(refused.id)).toBe('cancelled');
  });

  it('acknowledges events it does not handle, and payments that are not ours', async () => {
    const unknown = await webhook(stripe.event('customer.created', { id: 'cus_1', object: 'customer' }));
    expect(unknown.json()).toEqual({ received: true, ignored: true });
    const foreign = await webhook(
      stripe.event('payment_intent.succeeded', {
        id: 'pi_foreign',
        object: 'payment_intent',
        status: 'succeeded',
        amount: 100,
        amount_received: 100,
        currency: 'brl',
        metadata: {},
      }),
    );
    expect(foreign.json()).toEqual({ received: true, ignored: true });
  });

  it('Stripe unreachable: 503, the attempt stays pending (not failed), and reconciliation settles it later', async () => {
    const o = await placed(1500, 1);
    // Stripe takes the payment but the answers are lost (the SDK retries, same key, then gives up).
    stripe.loseAnswers = true;
    let res;
    try {
      res = await pay(o, { method: 'card', paymentMethod: 'pm_card_visa' });
    } finally {
      stripe.loseAnswers = false;
    }
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    const [a] = await attempts(o.id);
    expect(a).toMatchObject({ status: 'pending', providerReference: null });
    const creates = stripe.requests.filter(
      (r) => r.path === '/v1/payment_intents' && r.idempotencyKey === a!.id,
    );
    expect(creates.length).toBeGreaterThan(1);
    // One intent only, whatever the retries.
    expect([...stripe.intents.values()].filter((i) => i.metadata.attemptId === a!.id)).toHaveLength(1);
    expect(await statusOf(o.id)).toBe('pending');

    await t.db.pool.query(
      "UPDATE payment_attempts SET created_at = NOW() - interval '2 minutes' WHERE id = $1",
      [a!.id],
    );
    const run = await t.app.jobs.run('reconcile-payments', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    expect(stripe.requests.some((r) => r.path === '/v1/payment_intents/search')).toBe(true);
    expect(await statusOf(o.id)).toBe('confirmed');
    expect((await attempts(o.id))[0]).toMatchObject({
      status: 'succeeded',
      providerReference: expect.stringMatching(/^pi_/) as string,
    });
  });
});
