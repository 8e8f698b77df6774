/**
 * The webhook events beyond orders and payments, against the real services: inventory.low_stock
 * (once per crossing of the threshold, from the order statement, a multi-line order and an admin
 * correction), customer.created (and erasure reaching it), fulfillment.created, the product as the
 * API shows it, and the test route's own rate limit.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import { webhookHarness, type Received, type WebhookReceiver } from './helpers/webhook-receiver.ts';
import type { WebhookDelivery, WebhookEndpoint } from '../src/modules/webhooks/webhooks.service.ts';

const TESTS_PER_MINUTE = 4;

describe('webhook events: stock, customers, fulfilments, products', () => {
  let t: TestApp;
  const { call, newProduct, order, person } = api(() => t);
  const hooks = webhookHarness(call);
  const endpoint = (events: string[]) => hooks.endpoint<WebhookEndpoint & { secret: string }>(events);

  beforeAll(async () => {
    t = await createTestApp({
      WEBHOOK_ALLOW_INSECURE_URLS: 'true',
      WEBHOOK_RETRY_BASE_MS: '300',
      WEBHOOK_TIMEOUT_MS: '1500',
      LOW_STOCK_THRESHOLD: '5',
      WEBHOOK_TESTS_PER_MINUTE: String(TESTS_PER_MINUTE),
    });
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await hooks.close();
  });

  const ofType = (r: WebhookReceiver, type: string, where: (x: Received) => boolean = () => true) =>
    r.received.filter((x) => x.body.type === type && where(x));
  const variantOf = async (productId: string) =>
    (await call<{ variants: { id: string }[] }>('GET', `/store/products/${productId}`)).body.variants[0]!.id;

  it('emits inventory.low_stock once per crossing of the threshold, with the variant stock', async () => {
    const { r } = await endpoint(['inventory.low_stock']);
    const productId = await newProduct({ availableQuantity: 7, name: 'Caneca Esmaltada' });
    const variantId = await variantOf(productId);
    const mine = (x: Received) => x.body.data.productId === productId;

    // 7 -> 6: above; 6 -> 5: crosses; 5 -> 4: already below (no second event).
    for (let i = 0; i < 3; i++) expect((await order([{ productId, quantity: 1 }])).status).toBe(201);
    const [first] = await eventually(() => {
      const got = ofType(r, 'inventory.low_stock', mine);
      expect(got).toHaveLength(1);
      return got;
    });
    expect(first!.verified).toEqual([true]);
    expect(first!.body.data).toMatchObject({ productId, variantId, availableQuantity: 5, threshold: 5 });
    expect(first!.body.data.stock).toMatchObject({
      productId,
      variantId,
      name: 'Caneca Esmaltada',
    });
    const stock = first!.body.data.stock as { availableQuantity: unknown; reservedQuantity: unknown };
    expect(typeof stock.availableQuantity).toBe('number');
    expect(typeof stock.reservedQuantity).toBe('number');

    // A restock above the threshold and an admin correction down to 2: a new crossing.
    expect((await call('PUT', `/admin/inventory/${productId}`, { availableQuantity: 20 })).status).toBe(200);
    expect((await call('PUT', `/admin/inventory/${productId}`, { availableQuantity: 2 })).status).toBe(200);
    await eventually(() => expect(ofType(r, 'inventory.low_stock', mine)).toHaveLength(2));
    expect(ofType(r, 'inventory.low_stock', mine)[1]!.body.data).toMatchObject({ availableQuantity: 2 });

    // A multi-line order (the locked-rows path) crossing on one of its lines only.
    const a = await newProduct({ availableQuantity: 6 });
    const b = await newProduct({ availableQuantity: 50 });
    expect(
      (
        await order([
          { productId: a, quantity: 1 },
          { productId: b, quantity: 1 },
        ])
      ).status,
    ).toBe(201);
    await eventually(() =>
      expect(ofType(r, 'inventory.low_stock', (x) => x.body.data.productId === a)).toHaveLength(1),
    );
    expect(ofType(r, 'inventory.low_stock', (x) => x.body.data.productId === b)).toHaveLength(0);
    // Still exactly two for the first product (nothing more came of the later changes).
    expect(ofType(r, 'inventory.low_stock', mine)).toHaveLength(2);
  });

  it('emits customer.created on registration with the customer as the admin API shows it; erasure empties it', async () => {
    const { r, e } = await endpoint(['customer.created']);
    const { customerId } = await person({
      email: 'bia.webhook@example.com',
      name: 'Beatriz Lima',
      phone: '+5511988887777',
    });
    const [got] = await eventually(() => {
      const x = ofType(r, 'customer.created', (y) => y.body.data.customerId === customerId);
      expect(x).toHaveLength(1);
      return x;
    });
    expect(got!.verified).toEqual([true]);
    const shown = (await call('GET', `/admin/customers/${customerId}`)).body;
    expect(got!.body.data.customer).toEqual(shown);
    expect(got!.raw).not.toMatch(/password|hash/i);

    // A delivery still pending when the customer is erased loses the personal data.
    r.script([], { status: 500 });
    const other = await person({
      email: 'caio.webhook@example.com',
      name: 'Caio Prado',
      phone: '+5511977776666',
    });
    const pending = await eventually(async () => {
      const items = (
        await call<{ items: WebhookDelivery[] }>('GET', `/admin/webhooks/${e.id}/deliveries?limit=10`)
      ).body.items;
      const d = items.find((x) => x.attempts > 0 && x.status === 'pending');
      expect(d).toBeDefined();
      return d!;
    });
    expect((await call('POST', `/admin/customers/${other.customerId}/anonymize`)).status).toBe(200);
    const { rows } = await t.db.pool.query<{ payload: { data: Record<string, unknown> } }>(
      'SELECT payload FROM webhook_deliveries WHERE id = $1',
      [pending.id],
    );
    expect(rows[0]!.payload.data).toEqual({ customerId: other.customerId, customer: null, redacted: true });
    expect(JSON.stringify(rows[0]!.payload)).not.toContain('caio.webhook');
    await call('PATCH', `/admin/webhooks/${e.id}`, { enabled: false });
  });

  it('emits fulfillment.created with the shipment and the order', async () => {
    const { r } = await endpoint(['fulfillment.created']);
    const productId = await newProduct({ availableQuantity: 10 });
    const placed = await order([{ productId, quantity: 2 }]);
    expect(
      (await call('POST', `/admin/orders/${placed.body.id}/transition`, { to: 'confirmed' })).status,
    ).toBe(200);
    const shipped = await call<{ fulfillments: { id: string }[] }>(
      'POST',
      `/admin/orders/${placed.body.id}/fulfillments`,
      { carrier: 'Correios', trackingCode: 'AA123456789BR' },
    );
    expect(shipped.status).toBe(201);
    const [got] = await eventually(() => {
      const x = ofType(r, 'fulfillment.created');
      expect(x).toHaveLength(1);
      return x;
    });
    const detail = (
      await call<{ fulfillments: Record<string, unknown>[] }>('GET', `/admin/orders/${placed.body.id}`)
    ).body;
    expect(got!.body.data).toMatchObject({
      orderId: placed.body.id,
      fulfillmentId: detail.fulfillments[0]!.id,
      fulfillment: detail.fulfillments[0],
      order: { id: placed.body.id },
    });
  });

  it('carries the product as the store shows it; a deleted one is null', async () => {
    const { r } = await endpoint(['product.updated', 'product.deleted']);
    const productId = await newProduct({ availableQuantity: 3, basePrice: 1000 });
    expect((await call('PATCH', `/admin/products/${productId}`, { basePrice: 1290 })).status).toBe(200);
    const [updated] = await eventually(() => {
      const x = ofType(r, 'product.updated', (y) => y.body.data.productId === productId);
      expect(x.length).toBeGreaterThanOrEqual(1);
      return x;
    });
    const shown = (await call('GET', `/store/products/${productId}`)).body;
    expect(updated!.body.data.product).toMatchObject({ id: productId, basePrice: 1290, name: shown.name });
    expect((await call('DELETE', `/admin/products/${productId}`)).status).toBe(204);
    const [deleted] = await eventually(() => {
      const x = ofType(r, 'product.deleted', (y) => y.body.data.productId === productId);
      expect(x).toHaveLength(1);
      return x;
    });
    expect(deleted!.body.data).toEqual({ productId, product: null });
  });

  it(`rations test events to ${TESTS_PER_MINUTE} a minute per admin key`, async () => {
    const { e } = await endpoint(['order.placed']);
    const { key } = await t.app.services.adminKeys.create({ name: 'tester', scopes: ['webhooks'] });
    for (let i = 0; i < TESTS_PER_MINUTE; i++)
      expect((await call('POST', `/admin/webhooks/${e.id}/test`, undefined, key)).status).toBe(202);
    const refused = await call<Err>('POST', `/admin/webhooks/${e.id}/test`, undefined, key);
    expect(refused.status).toBe(429);
    expect(refused.body.error.code).toBe('rate_limited');
    // Another key has its own budget, and the other routes are not rationed by this one.
    expect((await call('POST', `/admin/webhooks/${e.id}/test`)).status).toBe(202);
    expect((await call('GET', `/admin/webhooks/${e.id}`, undefined, key)).status).toBe(200);
  });
});
