/**
 * Outgoing webhooks against the real services: endpoints through the admin API, deliveries from
 * the outbox to local receivers that verify every signature with the `standardwebhooks` package.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import { startReceiver, type WebhookReceiver } from './helpers/webhook-receiver.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../src/modules/webhooks/webhooks.service.ts';
import { retryDelayMs } from '../src/modules/webhooks/webhooks.dispatcher.ts';
import { WebhooksService } from '../src/modules/webhooks/webhooks.service.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/platform/logger.ts';
import { AppError } from '../src/platform/errors.ts';

type Created = WebhookEndpoint & { secret: string };

describe('outgoing webhooks', () => {
  let t: TestApp;
  const receivers: WebhookReceiver[] = [];
  const { call, newProduct, order, person } = api(() => t);

  beforeAll(async () => {
    t = await createTestApp({
      WEBHOOK_ALLOW_INSECURE_URLS: 'true',
      WEBHOOK_RETRY_BASE_MS: '300',
      WEBHOOK_TIMEOUT_MS: '1500',
      WEBHOOK_RESPONSE_MAX_BYTES: '64',
      WEBHOOK_CONCURRENCY: '8',
      WEBHOOK_CONCURRENCY_PER_ENDPOINT: '2',
    });
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await Promise.all(receivers.map((r) => r.close()));
  });

  const receiver = async () => {
    const r = await startReceiver();
    receivers.push(r);
    return r;
  };
  const endpoint = async (
    r: WebhookReceiver,
    events: string[] = ['order.placed', 'order.status_changed'],
  ) => {
    const res = await call<Created>('POST', '/admin/webhooks', { url: r.url, events });
    expect(res.status).toBe(201);
    r.verifyWith([res.body.secret]);
    return res.body;
  };
  const deliveries = async (id: string) =>
    (await call<{ items: WebhookDelivery[] }>('GET', `/admin/webhooks/${id}/deliveries?limit=100`)).body
      .items;
  const ofType = (r: WebhookReceiver, type: string, orderId?: string) =>
    r.received.filter((x) => x.body.type === type && (!orderId || x.body.data.orderId === orderId));

  it('creates, lists, changes, disables and deletes endpoints; the secret is shown once and stored sealed', async () => {
    const r = await receiver();
    const created = await endpoint(r, ['order.placed']);
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(created).toMatchObject({
      url: r.url,
      events: ['order.placed'],
      enabled: true,
      disabledReason: null,
    });

    const list = await call<{ items: Record<string, unknown>[] }>('GET', '/admin/webhooks');
    const listed = list.body.items.find((e) => e.id === created.id)!;
    expect(listed).toBeDefined();
    expect(JSON.stringify(list.body)).not.toContain(created.secret);
    expect(JSON.stringify((await call('GET', `/admin/webhooks/${created.id}`)).body)).not.toContain(
      created.secret,
    );
    const stored = (
      await t.db.pool.query<{ secret_encrypted: string }>(
        'SELECT secret_encrypted FROM webhook_endpoints WHERE id = $1',
        [created.id],
      )
    ).rows[0]!.secret_encrypted;
    expect(stored).not.toContain(created.secret.slice(6, 20));
    expect(stored.startsWith('v1.')).toBe(true);

    const off = await call<WebhookEndpoint>('PATCH', `/admin/webhooks/${created.id}`, { enabled: false });
    expect(off.body).toMatchObject({ enabled: false, disabledReason: 'manual' });
    const on = await call<WebhookEndpoint>('PATCH', `/admin/webhooks/${created.id}`, {
      enabled: true,
      events: ['payment.succeeded', 'order.placed'],
      description: 'ERP',
    });
    expect(on.body).toMatchObject({
      enabled: true,
      disabledReason: null,
      events: ['order.placed', 'payment.succeeded'],
      description: 'ERP',
    });

    const bad = await call<Err>('POST', '/admin/webhooks', { url: r.url, events: ['order.exploded'] });
    expect(bad.status).toBe(400);
    expect(bad.body.error.code).toBe('invalid_request');
    const long = await call<Err>('POST', '/admin/webhooks', {
      url: `https://x.example/${'a'.repeat(2100)}`,
      events: ['order.placed'],
    });
    expect(long.status).toBe(400);
    expect(
      (await call<Err>('POST', '/admin/webhooks', { url: 'ftp://x.example/', events: ['order.placed'] }))
        .status,
    ).toBe(400);

    expect((await call('DELETE', `/admin/webhooks/${created.id}`)).status).toBe(204);
    expect((await call<Err>('GET', `/admin/webhooks/${created.id}`)).status).toBe(404);
    expect((await call<Err>('DELETE', `/admin/webhooks/${created.id}`)).status).toBe(404);
  });

  it('needs the webhooks scope', async () => {
    const { key: ordersOnly } = await t.app.services.adminKeys.create({
      name: 'orders only',
      scopes: ['orders'],
    });
    const { key: hooks } = await t.app.services.adminKeys.create({ name: 'hooks', scopes: ['webhooks'] });
    const refused = await call<Err>('GET', '/admin/webhooks', undefined, ordersOnly);
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('forbidden');
    expect((await call('GET', '/admin/webhooks', undefined, hooks)).status).toBe(200);
    expect((await call('GET', '/admin/webhooks', undefined, null)).status).toBe(401);
  });

  it('documents every event type with a JSON schema', async () => {
    const res = await call<{ items: { type: string; schema: { properties?: Record<string, unknown> } }[] }>(
      'GET',
      '/admin/webhooks/event-types',
    );
    const types = res.body.items.map((i) => i.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'order.placed',
        'order.status_changed',
        'payment.refunded',
        'customer.anonymized',
        'fulfillment.created',
        'inventory.low_stock',
        'customer.created',
      ]),
    );
    for (const i of res.body.items) expect(i.schema.properties).toBeDefined();
    const props = (type: string) =>
      Object.keys(res.body.items.find((i) => i.type === type)!.schema.properties!);
    expect(props('inventory.low_stock')).toEqual(
      expect.arrayContaining(['productId', 'variantId', 'availableQuantity', 'threshold', 'stock']),
    );
    expect(props('customer.created')).toEqual(expect.arrayContaining(['customerId', 'customer']));
    expect(props('fulfillment.created')).toEqual(
      expect.arrayContaining(['orderId', 'fulfillmentId', 'fulfillment', 'order']),
    );
    expect(props('product.updated')).toEqual(expect.arrayContaining(['productId', 'fields', 'product']));
    const doc = (await t.server.inject({ method: 'GET', url: '/docs/json' })).json<{
      components: { schemas: Record<string, unknown> };
    }>();
    expect(Object.keys(doc.components.schemas)).toEqual(
      expect.arrayContaining([
        'WebhookBody',
        'WebhookEvent_order_placed',
        'WebhookEvent_inventory_low_stock',
        'WebhookEvent_customer_created',
        'WebhookEvent_fulfillment_created',
      ]),
    );
  });

  it('delivers order.placed within 2 s, signed, with the order as the API shows it', async () => {
    const r = await receiver();
    await endpoint(r);
    const productId = await newProduct({ availableQuantity: 10, basePrice: 4990 });
    const placed = await order([{ productId, quantity: 2 }]);
    expect(placed.status).toBe(201);
    const started = Date.now();
    const got = await eventually(
      () => {
        const [x] = ofType(r, 'order.placed', placed.body.id);
        expect(x).toBeDefined();
        return x!;
      },
      { timeoutMs: 2000 },
    );
    expect(got.at - started).toBeLessThan(2000);
    expect(got.verified).toEqual([true]);
    expect(got.headers['webhook-id']).toMatch(/^msg_\d+$/);
    expect(got.headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/=]+$/);
    expect(Object.keys(got.body)).toEqual(['type', 'timestamp', 'data']);
    const shown = await call('GET', `/admin/orders/${placed.body.id}`);
    const { transitions: _t, ...asShown } = shown.body;
    expect(got.body.data.order).toMatchObject(
      Object.fromEntries(Object.entries(asShown).filter(([k]) => k in (got.body.data.order as object))),
    );
    expect(got.body.data).toMatchObject({ orderId: placed.body.id, totalAmount: 9980 });
  });

  it('signs with both secrets for the overlap after a rotation', async () => {
    const r = await receiver();
    const e = await endpoint(r, ['order.placed']);
    const rotated = await call<{ secret: string; previousSecretExpiresAt: string }>(
      'POST',
      `/admin/webhooks/${e.id}/rotate-secret`,
    );
    expect(rotated.status).toBe(200);
    expect(rotated.body.secret).not.toBe(e.secret);
    const hours = (Date.parse(rotated.body.previousSecretExpiresAt) - Date.now()) / 3600_000;
    expect(hours).toBeGreaterThan(23.9);
    expect(hours).toBeLessThanOrEqual(24);
    r.verifyWith([e.secret, rotated.body.secret]);
    const productId = await newProduct({ availableQuantity: 5 });
    const placed = await order([{ productId, quantity: 1 }]);
    const got = await eventually(() => {
      const [x] = ofType(r, 'order.placed', placed.body.id);
      expect(x).toBeDefined();
      return x!;
    });
    expect(got.verified).toEqual([true, true]);
    expect(got.headers['webhook-signature']!.split(' ')).toHaveLength(2);

    // Once the overlap is over, only the new secret signs.
    await t.db.pool.query(
      `UPDATE webhook_endpoints SET previous_secret_expires_at = NOW() - INTERVAL '1 second' WHERE id = $1`,
      [e.id],
    );
    const later = await order([{ productId, quantity: 1 }]);
    const after = await eventually(() => {
      const [x] = ofType(r, 'order.placed', later.body.id);
      expect(x).toBeDefined();
      return x!;
    });
    expect(after.verified).toEqual([false, true]);
  });

  it("retries a 500 with the same webhook-id, logs both attempts, and keeps the order of an order's events", async () => {
    const r = await receiver();
    const e = await endpoint(r);
    r.script([{ status: 500, body: 'boom' }]);
    const productId = await newProduct({ availableQuantity: 5 });
    const placed = await order([{ productId, quantity: 1 }]);
    // The first attempt failed: the order changes while order.placed waits for its retry.
    await eventually(() => expect(ofType(r, 'order.placed', placed.body.id)).toHaveLength(1));
    const moved = await call('POST', `/admin/orders/${placed.body.id}/transition`, { to: 'cancelled' });
    expect(moved.status).toBe(200);
    await eventually(() => expect(ofType(r, 'order.status_changed', placed.body.id)).toHaveLength(1), {
      timeoutMs: 5000,
    });

    const placedCalls = ofType(r, 'order.placed', placed.body.id);
    expect(placedCalls).toHaveLength(2);
    expect(placedCalls[0]!.headers['webhook-id']).toBe(placedCalls[1]!.headers['webhook-id']);
    expect(placedCalls.every((x) => x.verified[0])).toBe(true);
    const sequence = r.received.filter((x) => x.body.data.orderId === placed.body.id).map((x) => x.body.type);
    expect(sequence).toEqual(['order.placed', 'order.placed', 'order.status_changed']);

    const log = (await deliveries(e.id)).find((d) => d.eventType === 'order.placed')!;
    expect(log).toMatchObject({ status: 'delivered', attempts: 2, responseStatus: 200 });
    expect(log.attemptLog.map((a) => a.statusCode)).toEqual([500, 200]);
    expect(log.attemptLog[0]!.response).toBe('boom');
    expect(log.webhookId).toBe(placedCalls[0]!.headers['webhook-id']);
  });

  it('a hanging endpoint times out and never delays the others', async () => {
    const stuck = await receiver();
    const healthy = await receiver();
    stuck.script([], { hang: true });
    const s = await endpoint(stuck, ['order.placed']);
    await endpoint(healthy, ['order.placed']);
    const productId = await newProduct({ availableQuantity: 50 });
    const ids: string[] = [];
    for (let i = 0; i < 8; i++) ids.push((await order([{ productId, quantity: 1 }])).body.id);
    const started = Date.now();
    await eventually(
      () => expect(ids.every((id) => ofType(healthy, 'order.placed', id).length === 1)).toBe(true),
      {
        timeoutMs: 2000,
      },
    );
    expect(Date.now() - started).toBeLessThan(2000);
    // The stuck endpoint holds at most its own slots (2), and each attempt ends at the timeout.
    expect(stuck.received.length).toBeLessThanOrEqual(2);
    const failed = await eventually(
      async () => {
        const d = (await deliveries(s.id)).find((x) => x.attempts > 0)!;
        expect(d).toBeDefined();
        return d;
      },
      { timeoutMs: 5000 },
    );
    expect(failed.status).toBe('pending');
    expect(failed.retrying).toBe(true);
    expect(failed.error).toMatch(/timed out/);
    expect(failed.durationMs).toBeGreaterThanOrEqual(1400);
    await call('PATCH', `/admin/webhooks/${s.id}`, { enabled: false });
  });

  it('reads only the first bytes of a huge answer', async () => {
    const r = await receiver();
    const e = await endpoint(r, ['order.placed']);
    r.script([{ bigBodyBytes: 50 * 1024 * 1024 }]);
    const productId = await newProduct({ availableQuantity: 5 });
    await order([{ productId, quantity: 1 }]);
    const d = await eventually(async () => {
      const x = (await deliveries(e.id))[0]!;
      expect(x?.status).toBe('delivered');
      return x;
    });
    expect(d.response).toBe('x'.repeat(64));
    expect(d.durationMs!).toBeLessThan(1500);
  });

  it('does not follow redirects', async () => {
    const r = await receiver();
    const target = await receiver();
    const e = await endpoint(r, ['order.placed']);
    r.script([{ redirect: target.url }], { redirect: target.url });
    const productId = await newProduct({ availableQuantity: 5 });
    await order([{ productId, quantity: 1 }]);
    const d = await eventually(async () => {
      const x = (await deliveries(e.id))[0]!;
      expect(x?.attempts).toBeGreaterThanOrEqual(1);
      return x;
    });
    expect(d.responseStatus).toBe(302);
    expect(d.status).toBe('pending');
    expect(target.received).toHaveLength(0);
    await call('PATCH', `/admin/webhooks/${e.id}`, { enabled: false });
  });

  it('gives a delivery up after the retry window, disables an endpoint failing for days, and retries by hand', async () => {
    const r = await receiver();
    const e = await endpoint(r, ['order.placed']);
    r.script([], { status: 503 });
    const productId = await newProduct({ availableQuantity: 5 });
    const placed = await order([{ productId, quantity: 1 }]);
    const first = await eventually(async () => {
      const x = (await deliveries(e.id))[0]!;
      expect(x?.attempts).toBeGreaterThanOrEqual(1);
      return x;
    });
    // As if the delivery were 3 days old and the endpoint had failed for 6: the next failure ends both.
    await t.db.pool.query(
      `UPDATE webhook_deliveries SET created_at = NOW() - INTERVAL '73 hours' WHERE id = $1`,
      [first.id],
    );
    await t.db.pool.query(
      `UPDATE webhook_endpoints SET failing_since = NOW() - INTERVAL '6 days' WHERE id = $1`,
      [e.id],
    );
    const failed = await eventually(
      async () => {
        const x = (await deliveries(e.id)).find((d) => d.id === first.id)!;
        expect(x.status).toBe('failed');
        return x;
      },
      { timeoutMs: 5000 },
    );
    expect(failed.nextAttemptAt).toBeNull();
    const shown = (await call<WebhookEndpoint>('GET', `/admin/webhooks/${e.id}`)).body;
    expect(shown).toMatchObject({ enabled: false, disabledReason: 'failing' });
    expect(shown.failingSince).not.toBeNull();

    // A disabled endpoint gets nothing; enabled again and retried by hand, the delivery goes through.
    r.script([], { status: 200 });
    const before = r.received.length;
    const retried = await call<WebhookDelivery>(
      'POST',
      `/admin/webhooks/${e.id}/deliveries/${first.id}/retry`,
    );
    expect(retried.status).toBe(202);
    await new Promise((res) => setTimeout(res, 600));
    expect(r.received.length).toBe(before);
    await call('PATCH', `/admin/webhooks/${e.id}`, { enabled: true });
    await eventually(async () => {
      const x = (await deliveries(e.id)).find((d) => d.id === first.id)!;
      expect(x.status).toBe('delivered');
    });
    expect(ofType(r, 'order.placed', placed.body.id).at(-1)!.verified).toEqual([true]);
    expect((await call<WebhookEndpoint>('GET', `/admin/webhooks/${e.id}`)).body.failingSince).toBeNull();
    const again = await call<Err>('POST', `/admin/webhooks/${e.id}/deliveries/${first.id}/retry`);
    expect(again.status).toBe(409);
  });

  it('sends a test event to any endpoint', async () => {
    const r = await receiver();
    const e = await endpoint(r, ['product.created']);
    const res = await call<WebhookDelivery>('POST', `/admin/webhooks/${e.id}/test`);
    expect(res.status).toBe(202);
    const got = await eventually(() => {
      const [x] = ofType(r, 'webhook.test');
      expect(x).toBeDefined();
      return x!;
    });
    expect(got.verified).toEqual([true]);
    expect(got.body.data).toMatchObject({ endpointId: e.id });
    expect(got.headers['webhook-id']).toBe(res.body.webhookId);
  });

  it('fans an event out once even when the relay hands it over twice', async () => {
    const r = await receiver();
    const e = await endpoint(r, ['category.updated']);
    await call('PATCH', `/admin/webhooks/${e.id}`, { enabled: false });
    await t.db.pool.query(`UPDATE webhook_endpoints SET enabled = TRUE WHERE id = $1`, [e.id]);
    const envelope = {
      id: 987654321,
      type: 'category.updated',
      aggregateType: 'category',
      aggregateId: '00000000-0000-4000-8000-000000000001',
      payload: { categoryId: '00000000-0000-4000-8000-000000000001' },
      occurredAt: new Date().toISOString(),
    };
    const n = await Promise.all([
      t.app.services.webhooks.fanOut(envelope),
      t.app.services.webhooks.fanOut(envelope),
    ]);
    expect(n.reduce((a, b) => a + b, 0)).toBe(1);
    await eventually(() => expect(ofType(r, 'category.updated')).toHaveLength(1));
  });

  it("erasure strips the personal data from the deliveries of the customer's orders", async () => {
    const r = await receiver();
    r.script([], { status: 500 }); // keeps them pending
    const e = await endpoint(r, ['order.placed']);
    const { token, customerId } = await person({
      email: 'ana.webhook@example.com',
      name: 'Ana Souza',
      phone: '+5511999990000',
    });
    const productId = await newProduct({ availableQuantity: 5 });
    const placed = await call<{ id: string }>(
      'POST',
      '/store/orders',
      {
        items: [{ productId, quantity: 1, customization: { engraving: 'Para Ana, com amor' } }],
      },
      token,
    );
    expect(placed.status).toBe(201);
    await eventually(async () => expect((await deliveries(e.id)).length).toBe(1));
    const payload = async () =>
      (
        await t.db.pool.query<{ payload: unknown }>(
          'SELECT payload FROM webhook_deliveries WHERE endpoint_id = $1',
          [e.id],
        )
      ).rows[0]!.payload;
    expect(JSON.stringify(await payload())).toContain('Para Ana');
    expect((await call('POST', `/admin/customers/${customerId}/anonymize`)).status).toBe(200);
    const after = JSON.stringify(await payload());
    expect(after).not.toContain('Para Ana');
    expect(after).not.toContain(customerId);
    expect(after).toContain('"redacted":true');
    await call('PATCH', `/admin/webhooks/${e.id}`, { enabled: false });
  });

  it('prunes completed deliveries past the retention, never pending ones', async () => {
    const r = await receiver();
    const e = await endpoint(r, ['order.placed']);
    const res = await call<WebhookDelivery>('POST', `/admin/webhooks/${e.id}/test`);
    await eventually(async () => expect((await deliveries(e.id))[0]!.status).toBe('delivered'));
    await call('PATCH', `/admin/webhooks/${e.id}`, { enabled: false });
    const pending = await call<WebhookDelivery>('POST', `/admin/webhooks/${e.id}/test`);
    await t.db.pool.query(
      `UPDATE webhook_deliveries SET completed_at = NOW() - INTERVAL '31 days', created_at = NOW() - INTERVAL '31 days' WHERE endpoint_id = $1`,
      [e.id],
    );
    const run = await call<{ result?: { deleted: number } }>(
      'POST',
      '/admin/jobs/prune-webhook-deliveries/run',
    );
    expect([200, 202]).toContain(run.status);
    await eventually(async () => {
      const ids = (await deliveries(e.id)).map((d) => d.id);
      expect(ids).toEqual([pending.body.id]);
    });
    expect(
      (await t.db.pool.query('SELECT 1 FROM webhook_attempts WHERE delivery_id = $1', [res.body.id]))
        .rowCount,
    ).toBe(0);
  });

  it('exposes delivery metrics per endpoint', async () => {
    const res = await t.server.inject({ method: 'GET', url: '/metrics' });
    expect(res.body).toMatch(/shopflow_webhook_attempts_total\{result="delivered"\} \d+/);
    expect(res.body).toMatch(/shopflow_webhook_attempts_total\{result="retrying"\} \d+/);
    expect(res.body).toMatch(/shopflow_webhook_pending_deliveries\{endpoint="[0-9a-f-]{36}"\} \d+/);
    expect(res.body).toMatch(/shopflow_webhook_oldest_pending_seconds\{endpoint="[0-9a-f-]{36}"\} [\d.]+/);
  });

  it('in production: no secrets key means 503 on the routes that need it, and no insecure URLs', async () => {
    const production = {
      NODE_ENV: 'production',
      DATABASE_URL: 'postgres://db.example/shop',
      AMQP_URL: 'amqp://mq.example',
      S3_REGION: 'sa-east-1',
      REDIS_URL: 'redis://cache.example:6379',
      METRICS_TOKEN: 'a-metrics-token-of-16+',
    };
    expect(loadConfig(production).webhooks.secretsKey).toBeNull();
    expect(
      loadConfig({ ...production, WEBHOOK_SECRETS_KEY: 'k'.repeat(32) }).webhooks.secretsKey,
    ).toHaveLength(44);
    expect(() => loadConfig({ ...production, WEBHOOK_ALLOW_INSECURE_URLS: 'true' })).toThrow(
      /WEBHOOK_ALLOW_INSECURE_URLS/,
    );
    expect(() => loadConfig({ WEBHOOK_SECRETS_KEY: 'short' })).toThrow(/WEBHOOK_SECRETS_KEY/);
    const keyless = new WebhooksService({
      db: t.app.db,
      read: {
        order: () => Promise.resolve(null),
        fulfillment: () => Promise.resolve(null),
        product: () => Promise.resolve(null),
        variantStock: () => Promise.resolve(null),
        customer: () => Promise.resolve(null),
      },
      secretsKey: null,
      allowInsecureUrls: false,
      retentionDays: 30,
      logger: createLogger('silent'),
    });
    const refused = await keyless
      .create({ url: 'https://erp.example.com/hook', events: ['order.placed'] })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AppError);
    expect(refused).toMatchObject({ kind: 'unavailable', code: 'dependency_unavailable' });
    const { rows } = await t.db.pool.query(
      `SELECT 1 FROM webhook_endpoints WHERE url = 'https://erp.example.com/hook'`,
    );
    expect(rows).toHaveLength(0);
  });

  it('spaces retries out exponentially with jitter, capped, over about three days', () => {
    expect(retryDelayMs(1, 30_000, () => 1)).toBe(30_000);
    expect(retryDelayMs(2, 30_000, () => 1)).toBe(60_000);
    expect(retryDelayMs(1, 30_000, () => 0)).toBe(15_000);
    expect(retryDelayMs(40, 30_000, () => 1)).toBe(6 * 3600_000);
    let total = 0;
    let n = 0;
    while (total < 72 * 3600_000) total += retryDelayMs(++n, 30_000, () => 1);
    expect(n).toBeGreaterThan(12);
    expect(n).toBeLessThan(25);
  });
});
