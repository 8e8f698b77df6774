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
  /** A paid (confirmed) order of one unit of the product by the customer. */
  const paidOrder = async (productId: string, buyer: string) => {
    const placed = await call<{ id: string }>(
      'POST',
      '/store/orders',
      { items: [{ productId, quantity: 1 }] },
      buyer,
    );
    const paid = await call(
      'POST',
      `/store/orders/${placed.body.id}/payments`,
      { paymentMethod: 'tok_ok' },
      buyer,
    );
    expect(paid.status).toBe(201);
    return placed.body;
  };

  it('marks a buyer’s review verified and lists it before newer unverified ones', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const buyer = await customer('buyer@example.com');
    const placed = await paidOrder(productId, buyer);
    for (const to of ['shipped', 'delivered'])
      expect((await call('POST', `/admin/orders/${placed.id}/transition`, { to })).status).toBe(200);

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

    // The rating averages verified purchases only: the two trolls' 1s do not count.
    const page = await call<{ rating: { average: number | null; count: number } }>(
      'GET',
      `/store/products/${productId}`,
      undefined,
      null,
    );
    expect(page.body.rating).toEqual({ average: 5, count: 1 });
  });

  it('counts a paid (confirmed) order as a verified purchase, not only a delivered one', async () => {
    const productId = await newProduct({ availableQuantity: 5 });
    const buyer = await customer('paid-buyer@example.com');
    await paidOrder(productId, buyer);
    const r = await call<{ verifiedPurchase: boolean }>(
      'POST',
      `/store/products/${productId}/reviews`,
      { rating: 4 },
      buyer,
    );
    expect(r.body.verifiedPurchase).toBe(true);
  });
});
