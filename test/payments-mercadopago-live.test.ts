/**
 * The Mercado Pago adapter against Mercado Pago's sandbox: runs only when MERCADOPAGO_ACCESS_TOKEN
 * is a sandbox token (`TEST-...`; nothing is charged). Card tokens are made here with Mercado
 * Pago's published test cards (the cardholder name picks the outcome: `APRO` approved, `OTHE`
 * rejected); a browser would make them with the CardForm. Notifications cannot reach this
 * machine, so their part is the local suite's (test/payments-mercadopago.test.ts); here the
 * signature check runs on a notification signed with the same secret.
 *
 *   MERCADOPAGO_ACCESS_TOKEN=TEST-... npx vitest run test/payments-mercadopago-live.test.ts
 *
 * MERCADOPAGO_LIVE_PAYER_EMAIL: the payer (a test user's e-mail; not the seller's own).
 */
import { createHmac, randomUUID } from 'node:crypto';
import { CardToken, MercadoPagoConfig } from 'mercadopago';
import { describe, expect, it } from 'vitest';
import { MercadoPagoPaymentProvider } from '../src/modules/payments/mercadopago-provider.ts';

const TOKEN = process.env.MERCADOPAGO_ACCESS_TOKEN;
const SECRET = 'mp-live-suite-local-secret-0000';
const EMAIL = process.env.MERCADOPAGO_LIVE_PAYER_EMAIL ?? 'test_user_shopflow@testuser.com';
const PAYER = { name: 'APRO Teste', email: EMAIL, taxId: '12345678909' };

describe.skipIf(!TOKEN?.startsWith('TEST-'))('Mercado Pago sandbox (live)', () => {
  const provider = new MercadoPagoPaymentProvider({
    accessToken: TOKEN ?? 'TEST-unset',
    webhookSecret: SECRET,
    webhookToleranceSeconds: 300,
    methods: ['card', 'pix', 'boleto'],
  });

  /** A token for Mercado Pago's test Mastercard; the cardholder's name decides the outcome. */
  async function cardToken(holder: 'APRO' | 'OTHE'): Promise<string> {
    const made = await new CardToken(new MercadoPagoConfig({ accessToken: TOKEN! })).create({
      body: {
        card_number: '5031433215406351',
        security_code: '123',
        expiration_month: '11',
        expiration_year: '2030',
        cardholder: { name: holder, identification: { type: 'CPF', number: PAYER.taxId } },
      } as Parameters<CardToken['create']>[0]['body'],
    });
    return made.id!;
  }

  it('charges a test card in 3 installments for the amount asked, finds it by attempt, refunds part of it', async () => {
    const attemptId = randomUUID();
    const paid = await provider.createPayment({
      attemptId,
      orderId: randomUUID(),
      amount: 15000,
      currency: 'BRL',
      method: 'card',
      token: await cardToken('APRO'),
      paymentMethodId: 'master',
      installments: 3,
      payer: PAYER,
    });
    expect(paid).toMatchObject({ status: 'succeeded', amount: 15000, currency: 'BRL', attemptId });
    expect(await provider.retrieve(paid.reference)).toMatchObject({ status: 'succeeded' });
    expect((await provider.findByAttempt(attemptId))?.reference).toBe(paid.reference);
    const refund = await provider.refund({
      reference: paid.reference,
      amount: 5000,
      idempotencyKey: `live:${attemptId}`,
      reason: 'test',
    });
    expect(refund.status).toBe('succeeded');
    expect(await provider.retrieve(paid.reference)).toMatchObject({ refundedAmount: 5000 });
  });

  it('answers a rejected card as a failed state with its status_detail', async () => {
    const declined = await provider.createPayment({
      attemptId: randomUUID(),
      orderId: randomUUID(),
      amount: 1990,
      currency: 'BRL',
      method: 'card',
      token: await cardToken('OTHE'),
      paymentMethodId: 'master',
      installments: 1,
      payer: PAYER,
    });
    expect(declined.status).toBe('failed');
    expect(declined.reason).toMatch(/^cc_rejected/);
  });

  it('answers a PIX code with its expiry, and cancels it', async () => {
    const pix = await provider.createPayment({
      attemptId: randomUUID(),
      orderId: randomUUID(),
      amount: 1990,
      currency: 'BRL',
      method: 'pix',
      payer: PAYER,
      expiresAt: new Date(Date.now() + 30 * 60_000),
    });
    expect(pix.status).toBe('pending');
    expect(pix.nextAction).toMatchObject({ type: 'pix' });
    expect((await provider.cancel(pix.reference)).status).toBe('failed');
  });

  it('verifies a notification signed with the secret and refuses a forged one', () => {
    const ts = Math.floor(Date.now() / 1000);
    const requestId = randomUUID();
    const sign = (secret: string) =>
      `ts=${ts},v1=${createHmac('sha256', secret).update(`id:123;request-id:${requestId};ts:${ts};`).digest('hex')}`;
    const body = Buffer.from(
      JSON.stringify({ id: 1, type: 'payment', action: 'payment.updated', data: { id: '123' } }),
    );
    expect(
      provider.parseWebhook(
        body,
        { 'x-signature': sign(SECRET), 'x-request-id': requestId },
        { 'data.id': '123' },
      ),
    ).toMatchObject({ kind: 'lookup', paymentReference: '123' });
    expect(() =>
      provider.parseWebhook(
        body,
        { 'x-signature': sign('other'), 'x-request-id': requestId },
        { 'data.id': '123' },
      ),
    ).toThrow();
  });
});
