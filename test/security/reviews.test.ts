/**
 * Attack: review bombing — anyone with an account could rate any product. The choice made (see
 * docs/api.md): every logged-in customer may still review, but a review by a customer who received
 * the product (a delivered order held it) is marked `verifiedPurchase` and listed first, so
 * throwaway accounts cannot push real buyers' reviews out of sight.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api } from '../helpers/api.ts';

describe('verified-purchase reviews', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  it('marks a buyer’s review verified and lists it before newer unverified ones', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const buyer = await customer('buyer@example.com');
    const placed = await call<{ id: string }>(
      'POST',
      '/store/orders',
      { items: [{ productId, quantity: 1 }] },
      buyer,
    );
    expect(
      (await call('POST', `/store/orders/${placed.body.id}/payments`, { paymentMethod: 'tok_ok' }, buyer))
        .status,
    ).toBe(201);
    for (const to of ['shipped', 'delivered'])
      expect((await call('POST', `/admin/orders/${placed.body.id}/transition`, { to })).status).toBe(200);

    const verified = await call<{ verifiedPurchase: boolean }>(
      'POST',
      `/store/products/${productId}/reviews`,
      { rating: 5, body: 'Chegou certinho' },
      buyer,
    );
    expect(verified.status).toBe(201);
    expect(verified.body.verifiedPurchase).toBe(true);

    for (const email of ['troll1@example.com', 'troll2@example.com']) {
      const troll = await customer(email);
      const r = await call<{ verifiedPurchase: boolean }>(
        'POST',
        `/store/products/${productId}/reviews`,
        { rating: 1 },
        troll,
      );
      expect(r.body.verifiedPurchase).toBe(false);
    }

    const first = await call<{ items: { verifiedPurchase: boolean; rating: number }[]; nextCursor: string }>(
      'GET',
      `/store/products/${productId}/reviews?limit=1`,
      undefined,
      null,
    );
    expect(first.body.items).toEqual([expect.objectContaining({ verifiedPurchase: true, rating: 5 })]);
    const rest = await call<{ items: { verifiedPurchase: boolean }[] }>(
      'GET',
      `/store/products/${productId}/reviews?limit=10&cursor=${first.body.nextCursor}`,
      undefined,
      null,
    );
    expect(rest.body.items.map((r) => r.verifiedPurchase)).toEqual([false, false]);
  });
});
