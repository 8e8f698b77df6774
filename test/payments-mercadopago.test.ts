/**
 * The Mercado Pago adapter, end to end: ShopFlow with PAYMENT_PROVIDER=mercadopago, the official
 * SDK pointed (MERCADOPAGO_API_BASE_URL) at a local endpoint that answers like
 * api.mercadopago.com and records what the SDK sent; notifications signed as Mercado Pago signs
 * them. Checked: the card payment in installments carries what the API reference asks (token,
 * installments, transaction_amount equal to the plan's total, the payer's e-mail and document,
 * X-Idempotency-Key); an order is confirmed only by a correctly signed, fresh notification whose
 * payment, read back from the API, is approved for the right amount; a notification counts once;
 * PIX and boleto answer what the payer needs; refunds add up; disputes reach a person.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import {
  mercadoPagoAppEnv,
  startMercadoPagoEndpoint,
  type MercadoPagoEndpoint,
} from './helpers/mercadopago-endpoint.ts';
import { pdfText } from './helpers/pdf.ts';
import { invoiceKey } from '../src/modules/invoices/invoices.service.ts';
import { splitInstallments } from '../src/modules/payments/installments.ts';

const SECRET = 'mp-local-webhook-secret-0123456789';

interface Plan {
  count: number;
  amount: number;
  total: number;
  interestFree: boolean;
}
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
  installments: Plan | null;
  refunds: { amount: number; status: string; reason: string }[];
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

describe('payments through Mercado Pago (SDK against a local recording endpoint)', () => {
  let t: TestApp;
  let mp: MercadoPagoEndpoint;
  beforeAll(async () => {
    mp = await startMercadoPagoEndpoint(SECRET);
    t = await createTestApp({
      ...mercadoPagoAppEnv(mp, SECRET),
      PAYMENT_RECONCILE_AFTER_MINUTES: '1',
      INSTALLMENTS_MAX: '12',
      INSTALLMENTS_INTEREST_FREE: '3',
      INSTALLMENTS_MONTHLY_RATE: '1.99',
      INSTALLMENTS_MIN_AMOUNT: '1000',
    });
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await mp?.close();
  });
  const { call, newProduct, order } = api(() => t);

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
  const card = (installments: number, token = 'tok_pending_card') => ({
    method: 'card',
    token,
    paymentMethodId: 'visa',
    issuerId: '25',
    installments,
    payer: { email: PAYER.email, taxId: PAYER.taxId },
  });
  const notify = (n: { body: string; headers: Record<string, string>; query: string }, headers = n.headers) =>
    t.server.inject({ method: 'POST', url: `/webhooks/mercadopago?${n.query}`, headers, payload: n.body });
  const statusOf = async (id: string) =>
    (await call<{ status: string }>('GET', `/admin/orders/${id}`)).body.status;
  const attempts = async (id: string) =>
    (await call<{ items: Attempt[] }>('GET', `/admin/orders/${id}/payments`)).body.items;
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
  const lastCreate = () => mp.requests.findLast((r) => r.method === 'POST' && r.path === '/v1/payments')!;

  it('answers the installment plans for the order total: interest-free up to 3, then 1.99% a month, none under the minimum installment', async () => {
    const o = await placed(12990, 2); // 259,80
    const res = await call<{ options: Plan[] }>(
      'GET',
      `/store/orders/${o.id}/installments`,
      undefined,
      o.token,
    );
    expect(res.status).toBe(200);
    const plans = res.body.options;
    expect(plans.map((p) => p.count)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(plans.slice(0, 3)).toEqual([
      { count: 1, amount: 25980, total: 25980, interestFree: true },
      { count: 2, amount: 12990, total: 25980, interestFree: true },
      { count: 3, amount: 8660, total: 25980, interestFree: true },
    ]);
    // Price table at 1.99% a month on 259,80: 6 x 46,365 is 278,19 in all (rounded to the centavo),
    // paid as 3 x 46,37 and 3 x 46,36.
    expect(plans[5]).toEqual({ count: 6, amount: 4637, total: 27819, interestFree: false });
    expect(splitInstallments(27819, 6)).toEqual([4637, 4637, 4637, 4636, 4636, 4636]);
    for (const p of plans) {
      const parts = splitInstallments(p.total, p.count);
      expect(parts.reduce((a, b) => a + b, 0)).toBe(p.total);
      expect(parts[0]).toBe(p.amount);
      expect(Math.max(...parts) - Math.min(...parts)).toBeLessThanOrEqual(1);
    }
    // A small order: no installment under R$ 10,00 (INSTALLMENTS_MIN_AMOUNT=1000).
    const small = await placed(3500, 1);
    const few = await call<{ options: Plan[] }>(
      'GET',
      `/store/orders/${small.id}/installments`,
      undefined,
      small.token,
    );
    expect(few.body.options.map((p) => p.count)).toEqual([1, 2, 3]);
    // Mercado Pago's rules for the card, when its brand is given, narrow the store's.
    mp.installmentCounts = [1, 3, 6, 12];
    try {
      const narrowed = await call<{ options: Plan[] }>(
        'GET',
        `/store/orders/${o.id}/installments?paymentMethodId=visa&issuerId=25`,
        undefined,
        o.token,
      );
      expect(narrowed.body.options.map((p) => p.count)).toEqual([1, 3, 6, 12]);
      const asked = mp.requests.findLast((r) => r.path === '/v1/payment_methods/installments')!;
      expect(asked.query).toMatchObject({ amount: '259.8', payment_method_id: 'visa', 'issuer.id': '25' });
    } finally {
      mp.installmentCounts = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
    }
    // Someone else's order is not found.
    const other = await placed(1000, 1);
    expect((await call('GET', `/store/orders/${o.id}/installments`, undefined, other.token)).status).toBe(
      404,
    );
  });

  it('a card in 6 installments sends the token, installments, the plan total, the payer and an X-Idempotency-Key; the order waits for a signed notification of an approved payment', async () => {
    const o = await placed(12990, 2);
    // The client cannot name an amount, nor an installment count the store does not offer.
    expect((await pay(o, { ...card(6), amount: 100 })).status).toBe(400);
    const notOffered = await pay(o, card(13));
    expect(notOffered.status).toBe(422);
    expect(notOffered.body.error.code).toBe('installments_not_offered');
    const noDocument = await pay(o, { ...card(6), payer: { email: PAYER.email } });
    expect(noDocument.status).toBe(400);
    expect(JSON.stringify(noDocument.body.error)).toContain('payer.taxId');

    const started = await pay(o, card(6));
    expect(started.status).toBe(202);
    const attempt = started.body.attempt;
    expect(attempt.installments).toEqual({ count: 6, amount: 4637, total: 27819, interestFree: false });
    expect(attempt.amount).toBe(27819);
    const sent = lastCreate();
    expect(sent.body).toMatchObject({
      token: 'tok_pending_card',
      installments: 6,
      transaction_amount: 278.19,
      payment_method_id: 'visa',
      issuer_id: 25,
      external_reference: attempt.id,
      payer: { email: 'maria@example.com', identification: { type: 'CPF', number: '12345678909' } },
    });
    expect(sent.idempotencyKey).toBe(attempt.id);
    expect(sent.authorization).toBe('Bearer TEST-0000000000000000-local');
    expect(await statusOf(o.id)).toBe('pending');
    const reference = attempt.providerReference!;

    // A notification while the payment is still in process confirms nothing.
    expect((await notify(mp.notification(reference))).json()).toEqual({ received: true });
    expect(await statusOf(o.id)).toBe('pending');

    mp.setStatus(reference, 'approved');
    const n = mp.notification(reference, { notificationId: 777001 });
    // Forged (another secret), stale (ten minutes old), unsigned, or for another payment id.
    expect((await notify(mp.notification(reference, { secret: 'attacker-secret-000000' }))).statusCode).toBe(
      400,
    );
    const stale = await notify(mp.notification(reference, { ts: Math.floor(Date.now() / 1000) - 600 }));
    expect(stale.statusCode).toBe(400);
    expect(stale.json()).toMatchObject({ error: { code: 'invalid_signature' } });
    const { 'x-signature': _dropped, ...unsigned } = n.headers;
    expect((await notify(n, unsigned)).statusCode).toBe(400);
    const otherId = await t.server.inject({
      method: 'POST',
      url: `/webhooks/mercadopago?data.id=999&type=payment`,
      headers: n.headers,
      payload: n.body,
    });
    expect(otherId.statusCode).toBe(400);
    expect(await statusOf(o.id)).toBe('pending');

    // The real one confirms; delivered again, it changes nothing.
    const before = mp.requests.length;
    expect((await notify(n)).json()).toEqual({ received: true });
    // The state was read back from the API, not taken from the notification.
    expect(
      mp.requests.slice(before).some((r) => r.method === 'GET' && r.path === `/v1/payments/${reference}`),
    ).toBe(true);
    expect(await statusOf(o.id)).toBe('confirmed');
    expect((await notify(n)).json()).toEqual({ received: true, duplicate: true });
    // Another notification of the same approved payment (a retry with a new id) confirms nothing more.
    expect((await notify(mp.notification(reference))).statusCode).toBe(200);
    expect(await confirmations(o.id)).toBe(1);
    const [a] = await attempts(o.id);
    expect(a).toMatchObject({ status: 'succeeded', amount: 27819, installments: { count: 6, total: 27819 } });
    // The plan is shown on the order (the buyer's and the admin's view) and on its invoice.
    const plan = { count: 6, amount: 4637, total: 27819, interestFree: false };
    const mine = await call<{ payment: unknown }>('GET', `/store/orders/${o.id}`, undefined, o.token);
    expect(mine.body.payment).toEqual({ method: 'card', status: 'succeeded', installments: plan });
    const admin = await call<{ payment: unknown }>('GET', `/admin/orders/${o.id}`);
    expect(admin.body.payment).toEqual({ method: 'card', status: 'succeeded', installments: plan });
    await t.app.services.invoices.generate(o.id);
    const invoice = await t.app.objects.get('invoices', invoiceKey(o.id));
    const text = pdfText(invoice!.body).replace(/\n/g, '');
    expect(text).toContain('6x de R$\u00a046,37');
    expect(text).toContain('total R$\u00a0278,19, com juros');
  });

  it('an approved card at once confirms; a rejected one is 402 card_declined and keeps the order pending', async () => {
    const o = await placed(4990, 1);
    const declined = await pay(o, card(1, 'tok_rejected'));
    expect(declined.status).toBe(402);
    expect(declined.body.error).toMatchObject({
      code: 'payment_failed',
      details: { reason: 'card_declined' },
    });
    expect((await attempts(o.id))[0]!.failureReason).toBe('cc_rejected_insufficient_amount');
    expect(await statusOf(o.id)).toBe('pending');
    const paid = await pay(o, card(1, 'tok_approved'));
    expect(paid.status).toBe(201);
    expect(paid.body.order.status).toBe('confirmed');
    expect(paid.body.attempt.installments).toEqual({
      count: 1,
      amount: 4990,
      total: 4990,
      interestFree: true,
    });
    expect(lastCreate().body).toMatchObject({ transaction_amount: 49.9, installments: 1 });
  });

  it('a notification for another amount confirms nothing: the payment is listed for a person', async () => {
    const o = await placed(10000, 1);
    const started = await pay(o, { method: 'pix', payer: { email: PAYER.email } });
    const reference = started.body.attempt.providerReference!;
    mp.setStatus(reference, 'approved', { transaction_amount: 1 });
    expect((await notify(mp.notification(reference))).statusCode).toBe(200);
    expect(await statusOf(o.id)).toBe('pending');
    const attention = await call<{ items: { orderId: string; attentionReason: string }[] }>(
      'GET',
      '/admin/payments/attention',
    );
    expect(attention.body.items.find((x) => x.orderId === o.id)?.attentionReason).toMatch(/amount_mismatch/);
    expect(await confirmations(o.id)).toBe(0);
  });

  it('PIX answers the QR code image, the copy-paste code and its expiry; the stock hold follows the expiry', async () => {
    const o = await placed(2500, 2, 5);
    const res = await pay(o, { method: 'pix', payer: { email: PAYER.email } });
    expect(res.status).toBe(202);
    const action = res.body.attempt.nextAction!;
    expect(action).toMatchObject({ type: 'pix', code: expect.stringContaining('br.gov.bcb.pix') as string });
    expect(action.qrCodeBase64).toMatch(/^[A-Za-z0-9+/=]+$/);
    const expiresAt = new Date(action.expiresAt!).getTime();
    expect(Math.abs(expiresAt - (Date.now() + 30 * 60_000))).toBeLessThan(60_000);
    const sent = lastCreate();
    expect(sent.body).toMatchObject({
      payment_method_id: 'pix',
      transaction_amount: 50,
      payer: { email: PAYER.email },
    });
    expect(new Date(sent.body!.date_of_expiration as string).getTime()).toBeCloseTo(expiresAt, -3);
    const { rows } = await t.db.pool.query<{ ms: number }>(
      'SELECT EXTRACT(EPOCH FROM payment_expires_at) * 1000 AS ms FROM orders WHERE id = $1',
      [o.id],
    );
    // Held until the code expires, plus five minutes for a payment made at its last second.
    expect(Number(rows[0]!.ms) - expiresAt).toBeCloseTo(5 * 60_000, 0);
    // A PIX answered without its expiry keeps the one asked for (and the hold that goes with it).
    const other = await placed(2500, 1, 5);
    mp.omitExpiry = true;
    try {
      const bare = await pay(other, { method: 'pix', payer: { email: PAYER.email } });
      expect(bare.status).toBe(202);
      const asked = new Date(lastCreate().body!.date_of_expiration as string).getTime();
      expect(new Date(bare.body.attempt.nextAction!.expiresAt!).getTime()).toBe(asked);
    } finally {
      mp.omitExpiry = false;
    }
    // Paid: confirmed by the notification.
    mp.setStatus(res.body.attempt.providerReference!, 'approved');
    await notify(mp.notification(res.body.attempt.providerReference!));
    expect(await statusOf(o.id)).toBe('confirmed');
  });

  it('a boleto refuses a payer without a valid CPF/CNPJ or address (400 naming the field); it answers the digitable line, PDF and due date', async () => {
    const o = await placed(8000, 1);
    const fieldsOf = (res: { body: Err }) => JSON.stringify(res.body.error.details ?? res.body.error);
    const noDocument = await pay(o, {
      method: 'boleto',
      payer: { name: PAYER.name, email: PAYER.email, address: ADDRESS },
    });
    expect(noDocument.status).toBe(400);
    expect(fieldsOf(noDocument)).toContain('taxId');
    const invalid = await pay(o, {
      method: 'boleto',
      payer: { ...PAYER, taxId: '123.456.789-00', address: ADDRESS },
    });
    expect(invalid.status).toBe(400);
    expect(fieldsOf(invalid)).toContain('taxId');
    const noNumber = await pay(o, {
      method: 'boleto',
      payer: { ...PAYER, address: { ...ADDRESS, number: undefined } },
    });
    expect(noNumber.status).toBe(400);
    expect(fieldsOf(noNumber)).toContain('payer.address.number');
    expect(mp.requests.filter((r) => r.body?.payment_method_id === 'bolbradesco')).toHaveLength(0);

    // The alphanumeric CNPJ of 2026 is a valid document.
    const res = await pay(o, {
      method: 'boleto',
      payer: {
        name: 'Padaria Alfa Ltda',
        email: 'compras@alfa.example',
        taxId: '12.ABC.345/01DE-35',
        address: ADDRESS,
      },
    });
    expect(res.status).toBe(202);
    expect(res.body.attempt.nextAction).toMatchObject({
      type: 'boleto',
      number: '23793.38029 60000.000001 12345.678901 1 12345000012990',
      pdfUrl: expect.stringContaining('/ticket') as string,
    });
    const due = new Date(res.body.attempt.nextAction!.expiresAt!).getTime();
    expect(Math.abs(due - (Date.now() + 3 * 86_400_000))).toBeLessThan(60_000);
    expect(lastCreate().body).toMatchObject({
      payment_method_id: 'bolbradesco',
      transaction_amount: 80,
      payer: {
        first_name: 'Padaria',
        last_name: 'Alfa Ltda',
        identification: { type: 'CNPJ', number: '12ABC34501DE35' },
        address: {
          zip_code: '01304000',
          street_number: '100',
          neighborhood: 'Consolação',
          federal_unit: 'SP',
        },
      },
    });
  });

  it('refunds part then the rest with X-Idempotency-Key: amounts add up to what was paid; the order is refunded only at the end', async () => {
    const o = await placed(5000, 2, 4);
    expect((await pay(o, card(1, 'tok_approved'))).status).toBe(201);
    const refund = (body: object, key: string) =>
      call<{ refunds: { amount: number; status: string }[] } & Err>(
        'POST',
        `/admin/orders/${o.id}/refunds`,
        body,
        undefined,
        { 'idempotency-key': key },
      );
    const part = await refund({ amount: 1234 }, 'mp-refund-1');
    expect(part.status).toBe(201);
    expect(part.body.refunds).toEqual([expect.objectContaining({ amount: 1234, status: 'succeeded' })]);
    expect(await statusOf(o.id)).toBe('confirmed');
    // The same key again: the same refund, nothing sent twice.
    expect((await refund({ amount: 1234 }, 'mp-refund-1')).body.refunds).toEqual(part.body.refunds);
    const reference = (await attempts(o.id))[0]!.providerReference!;
    const refundCalls = () => mp.requests.filter((r) => r.path === `/v1/payments/${reference}/refunds`);
    expect(refundCalls()).toHaveLength(1);
    expect(refundCalls()[0]!.body).toEqual({ amount: 12.34 });
    expect(refundCalls()[0]!.idempotencyKey).toMatch(/^admin:mp-refund-1:/);
    const rest = await refund({}, 'mp-refund-2');
    expect(rest.body.refunds).toEqual([expect.objectContaining({ amount: 8766 })]);
    expect(refundCalls()[1]!.body).toEqual({ amount: 87.66 });
    expect(await statusOf(o.id)).toBe('refunded');
    const [a] = await attempts(o.id);
    expect(a).toMatchObject({ status: 'refunded', amount: 10000, refundedAmount: 10000 });
    expect(a!.refunds.reduce((s, r) => s + r.amount, 0)).toBe(10000);
    // Mercado Pago agrees: the payment is refunded in full there too.
    expect(mp.payments.get(Number(reference))).toMatchObject({
      status: 'refunded',
      transaction_amount_refunded: 100,
    });
    // Its notification of the refund, late, changes nothing.
    expect((await notify(mp.notification(reference))).statusCode).toBe(200);
    expect((await attempts(o.id))[0]).toMatchObject({ status: 'refunded', refundedAmount: 10000 });
    expect(await events('payment.refunded', o.id)).toBe(2);
  });

  it('a refund made at Mercado Pago counts through the notification; a chargeback is listed for a person', async () => {
    const o = await placed(6000, 1);
    const paid = await pay(o, card(1, 'tok_approved'));
    const reference = paid.body.attempt.providerReference!;
    mp.setStatus(reference, 'approved', { transaction_amount_refunded: 10 });
    await notify(mp.notification(reference));
    expect((await attempts(o.id))[0]).toMatchObject({ status: 'succeeded', refundedAmount: 1000 });
    expect(await statusOf(o.id)).toBe('confirmed');
    mp.setStatus(reference, 'charged_back');
    const n = mp.notification(reference);
    await notify(n);
    await notify(mp.notification(reference));
    const attention = await call<{ items: { orderId: string; attentionReason: string }[] }>(
      'GET',
      '/admin/payments/attention',
    );
    expect(attention.body.items.find((x) => x.orderId === o.id)?.attentionReason).toBe(
      'dispute: charged_back',
    );
    expect(await events('payment.attention', o.id)).toBe(1);
  });

  it('a paid boleto Mercado Pago cannot refund goes to a person (refund_required)', async () => {
    const o = await placed(7000, 1);
    const res = await pay(o, { method: 'boleto', payer: { ...PAYER, address: ADDRESS } });
    const reference = res.body.attempt.providerReference!;
    mp.setStatus(reference, 'approved');
    await notify(mp.notification(reference));
    expect(await statusOf(o.id)).toBe('confirmed');
    mp.refuseBoletoRefunds = true;
    try {
      const r = await call<{ refunds: { status: string; failureReason: string }[] }>(
        'POST',
        `/admin/orders/${o.id}/refunds`,
        {},
        undefined,
        { 'idempotency-key': 'boleto-refund-1' },
      );
      expect(r.status).toBe(201);
      expect(r.body.refunds[0]).toMatchObject({ status: 'failed', failureReason: 'refund_not_allowed' });
    } finally {
      mp.refuseBoletoRefunds = false;
    }
    const [a] = await attempts(o.id);
    expect(a).toMatchObject({ status: 'refund_required', refundedAmount: 0 });
    const attention = await call<{ items: { orderId: string; status: string }[] }>(
      'GET',
      '/admin/payments/attention',
    );
    expect(attention.body.items.find((x) => x.orderId === o.id)?.status).toBe('refund_required');
    expect(await events('payment.refund_required', o.id)).toBe(1);
    expect(await statusOf(o.id)).toBe('confirmed');
  });

  it('Mercado Pago unreachable: 503, the attempt stays pending, and reconciliation finds the payment by its external_reference', async () => {
    const o = await placed(1500, 1);
    mp.loseAnswers = true;
    let res;
    try {
      res = await pay(o, card(1, 'tok_approved'));
    } finally {
      mp.loseAnswers = false;
    }
    expect(res.status).toBe(503);
    expect(res.body.error.code).toBe('dependency_unavailable');
    const [a] = await attempts(o.id);
    expect(a).toMatchObject({ status: 'pending', providerReference: null });
    // Retried by the SDK under the same key: one payment at Mercado Pago.
    expect(
      mp.requests.filter((r) => r.path === '/v1/payments' && r.idempotencyKey === a!.id).length,
    ).toBeGreaterThan(1);
    expect([...mp.payments.values()].filter((p) => p.external_reference === a!.id)).toHaveLength(1);
    await t.db.pool.query(
      "UPDATE payment_attempts SET created_at = NOW() - interval '2 minutes' WHERE id = $1",
      [a!.id],
    );
    const run = await t.app.jobs.run('reconcile-payments', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    expect(
      mp.requests.some((r) => r.path === '/v1/payments/search' && r.query.external_reference === a!.id),
    ).toBe(true);
    expect(await statusOf(o.id)).toBe('confirmed');
  });

  it('Mercado Pago down: the installments narrowed by its rules are 503 dependency_unavailable, the store rule alone still answers; a notification is 503 and stays unprocessed', async () => {
    const o = await placed(20000, 1);
    const started = await pay(o, { method: 'pix', payer: { email: PAYER.email } });
    const reference = started.body.attempt.providerReference!;
    mp.setStatus(reference, 'approved');
    const n = mp.notification(reference);
    mp.loseAnswers = true;
    try {
      const narrowed = await call<Err>(
        'GET',
        `/store/orders/${o.id}/installments?paymentMethodId=visa`,
        undefined,
        o.token,
      );
      expect(narrowed.status).toBe(503);
      expect(narrowed.body.error.code).toBe('dependency_unavailable');
      expect((await call('GET', `/store/orders/${o.id}/installments`, undefined, o.token)).status).toBe(200);
      const down = await notify(n);
      expect(down.statusCode).toBe(503);
    } finally {
      mp.loseAnswers = false;
    }
    expect(await statusOf(o.id)).toBe('pending');
    // Delivered again once Mercado Pago answers: processed then, once.
    expect((await notify(n)).json()).toEqual({ received: true });
    expect(await statusOf(o.id)).toBe('confirmed');
    expect(await confirmations(o.id)).toBe(1);
  });

  it('refuses malformed notifications before touching anything: not JSON, no id, an id that is not one, no request id', async () => {
    const n = mp.notification('123');
    const send = (url: string, headers: Record<string, string>, payload: string) =>
      t.server.inject({ method: 'POST', url, headers, payload });
    expect(
      (await send('/webhooks/mercadopago?data.id=123&type=payment', n.headers, 'not json')).statusCode,
    ).toBe(400);
    expect(
      (await send('/webhooks/mercadopago?type=payment', n.headers, '{"type":"payment"}')).statusCode,
    ).toBe(400);
    const weird = mp.notification('1;request-id:x');
    expect((await send(`/webhooks/mercadopago?${weird.query}`, weird.headers, weird.body)).statusCode).toBe(
      400,
    );
    const { 'x-request-id': _gone, ...noRequestId } = n.headers;
    expect((await send(`/webhooks/mercadopago?${n.query}`, noRequestId, n.body)).statusCode).toBe(400);
    const { rowCount } = await t.db.pool.query(
      "SELECT 1 FROM payment_events WHERE provider = 'mercadopago' AND event_id LIKE 'request:%'",
    );
    expect(rowCount).toBe(0);
  });

  it('an expired unpaid PIX is cancelled at Mercado Pago', async () => {
    const o = await placed(2000, 1);
    const res = await pay(o, { method: 'pix', payer: { email: PAYER.email } });
    await t.db.pool.query(
      "UPDATE orders SET payment_expires_at = NOW() - interval '1 second' WHERE id = $1",
      [o.id],
    );
    await t.app.services.orders.expirePending({ ttlMinutes: 30 });
    expect(await statusOf(o.id)).toBe('cancelled');
    const reference = Number(res.body.attempt.providerReference);
    await eventually(() => expect(mp.payments.get(reference)!.status).toBe('cancelled'));
    await eventually(async () => expect((await attempts(o.id))[0]!.status).toBe('failed'));
  });
});
