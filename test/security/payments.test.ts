/**
 * Attack: confirm one's own order without paying. With the test provider wired everywhere,
 * `POST /store/orders/{id}/payments {"paymentMethod":"x"}` confirmed any order. Now the provider is
 * a configured choice: none by default next to a configured database, refused in production.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';
import { shopflow } from '../helpers/cli.ts';

describe('no order is confirmed without a configured payment provider', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A configured database, and no PAYMENT_PROVIDER (empty counts as unset).
    t = await createTestApp({ PAYMENT_PROVIDER: '' });
  });
  afterAll(async () => t?.close());
  const { call, newProduct, order } = api(() => t);

  it('refuses to pay (503), writes no attempt, and leaves the order pending', async () => {
    const productId = await newProduct({ availableQuantity: 3 });
    const placed = await order([{ productId, quantity: 1 }]);
    expect(placed.status).toBe(201);
    const token = placed.body as unknown as { id: string; sessionToken: string };
    const paid = await call<Err>(
      'POST',
      `/store/orders/${token.id}/payments`,
      { paymentMethod: 'x' },
      token.sessionToken,
    );
    expect(paid.status).toBe(503);
    expect(paid.body.error.code).toBe('payments_unavailable');
    const { rows } = await t.db.pool.query<{ status: string; attempts: number }>(
      `SELECT status, (SELECT COUNT(*)::int FROM payment_attempts WHERE order_id = $1) AS attempts
         FROM orders WHERE id = $1`,
      [token.id],
    );
    expect(rows[0]).toEqual({ status: 'pending', attempts: 0 });
  });

  it('says which provider is active in /health/ready', async () => {
    const ready = await call<{ paymentProvider: string }>('GET', '/health/ready', undefined, null);
    expect(ready.body.paymentProvider).toBe('none');
  });
});

/** Production settings with every production engine named (none is contacted by loadConfig). */
const PRODUCTION = {
  NODE_ENV: 'production',
  DATABASE_URL: 'postgres://db.example/shop',
  AMQP_URL: 'amqp://mq.example',
  S3_REGION: 'sa-east-1',
  REDIS_URL: 'redis://cache.example:6379',
  METRICS_TOKEN: 'a-metrics-token-of-16+',
};

describe('the test provider', () => {
  it('is the default only in the embedded zero-config mode', () => {
    expect(loadConfig({}).payments.provider).toBe('test');
    expect(loadConfig({ DATABASE_URL: 'postgres://db.example/shop' }).payments.provider).toBe('none');
    expect(loadConfig({ DB_HOST: 'db.example' }).payments.provider).toBe('none');
    expect(
      loadConfig({ DATABASE_URL: 'postgres://db.example/shop', PAYMENT_PROVIDER: 'test' }).payments.provider,
    ).toBe('test');
  });

  it('is refused in production, with a one-line reason, and the server does not start', async () => {
    expect(() => loadConfig({ ...PRODUCTION, PAYMENT_PROVIDER: 'test' })).toThrow(ConfigError);
    const r = await shopflow(['serve'], {
      ...PRODUCTION,
      DATABASE_URL: 'postgres://postgres@127.0.0.1:1/none',
      PAYMENT_PROVIDER: 'test',
    });
    expect(r.code).not.toBe(0);
    expect(r.stderr.split('\n')[0]).toMatch(
      /^shopflow: PAYMENT_PROVIDER=test .* refused with NODE_ENV=production$/,
    );
  });
});

describe('the Stripe provider settings', () => {
  const db = { DATABASE_URL: 'postgres://db.example/shop' };
  it('needs the secret key and the webhook endpoint secret', () => {
    expect(() => loadConfig({ ...db, PAYMENT_PROVIDER: 'stripe' })).toThrow(
      /STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET/,
    );
    expect(() =>
      loadConfig({
        ...db,
        PAYMENT_PROVIDER: 'stripe',
        STRIPE_SECRET_KEY: 'sk_test_abc',
        STRIPE_WEBHOOK_SECRET: 'nope',
      }),
    ).toThrow(ConfigError);
    const ok = loadConfig({
      ...db,
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_SECRET_KEY: 'sk_test_abc',
      STRIPE_WEBHOOK_SECRET: 'whsec_abc',
      PAYMENT_METHODS: 'card,pix',
    }).payments;
    expect(ok).toMatchObject({
      provider: 'stripe',
      methods: ['card', 'pix'],
      stripe: { webhookToleranceSeconds: 300 },
    });
    expect(ok.stripe?.api).toBeUndefined();
  });

  it('refuses a test-mode key in production (no money would move), and accepts a live one', () => {
    const production = {
      ...PRODUCTION,
      PAYMENT_PROVIDER: 'stripe',
      STRIPE_WEBHOOK_SECRET: 'whsec_abc',
    };
    expect(() => loadConfig({ ...production, STRIPE_SECRET_KEY: 'sk_test_abc' })).toThrow(/test-mode key/);
    expect(loadConfig({ ...production, STRIPE_SECRET_KEY: 'sk_live_abc' }).payments.provider).toBe('stripe');
  });

  it('never falls back to the test provider in production', () => {
    const { DATABASE_URL: _omitted, ...noDatabase } = PRODUCTION;
    expect(() => loadConfig(noDatabase)).toThrow(/embedded PostgreSQL/);
    expect(loadConfig(PRODUCTION).payments.provider).toBe('none');
  });
});

describe('the Mercado Pago provider and installment settings', () => {
  const db = { DATABASE_URL: 'postgres://db.example/shop' };
  const mp = {
    PAYMENT_PROVIDER: 'mercadopago',
    MERCADOPAGO_ACCESS_TOKEN: 'APP_USR-1234567890-abcdef',
    MERCADOPAGO_WEBHOOK_SECRET: 'a-secret-signature-0123456789',
  };
  it('needs the access token and the webhook secret signature, and reads the installment rule', () => {
    expect(() => loadConfig({ ...db, PAYMENT_PROVIDER: 'mercadopago' })).toThrow(
      /MERCADOPAGO_ACCESS_TOKEN and MERCADOPAGO_WEBHOOK_SECRET/,
    );
    expect(() => loadConfig({ ...db, ...mp, MERCADOPAGO_ACCESS_TOKEN: 'sk_live_abc' })).toThrow(ConfigError);
    const ok = loadConfig({
      ...db,
      ...mp,
      INSTALLMENTS_MONTHLY_RATE: '1.99',
      INSTALLMENTS_MAX: '10',
    }).payments;
    expect(ok).toMatchObject({
      provider: 'mercadopago',
      mercadopago: { accessToken: mp.MERCADOPAGO_ACCESS_TOKEN, webhookToleranceSeconds: 300 },
      installments: { max: 10, interestFree: 3, minAmount: 500, monthlyRateBp: 199 },
    });
    expect(ok.mercadopago?.baseUrl).toBeUndefined();
    expect(() => loadConfig({ ...db, ...mp, INSTALLMENTS_MONTHLY_RATE: '-1' })).toThrow(ConfigError);
    expect(() =>
      loadConfig({ ...db, ...mp, INSTALLMENTS_MAX: '2', INSTALLMENTS_INTEREST_FREE: '3' }),
    ).toThrow(/INSTALLMENTS_INTEREST_FREE/);
    expect(() => loadConfig({ ...db, ...mp, MERCADOPAGO_API_BASE_URL: 'ftp://x' })).toThrow(ConfigError);
  });

  it('refuses a sandbox token or another API base URL in production, and accepts a production token', () => {
    const production = { ...PRODUCTION, ...mp };
    expect(() => loadConfig({ ...production, MERCADOPAGO_ACCESS_TOKEN: 'TEST-1234567890-abcdef' })).toThrow(
      /sandbox token/,
    );
    expect(() => loadConfig({ ...production, MERCADOPAGO_API_BASE_URL: 'http://127.0.0.1:9' })).toThrow(
      /MERCADOPAGO_API_BASE_URL/,
    );
    expect(loadConfig(production).payments.provider).toBe('mercadopago');
  });
});
