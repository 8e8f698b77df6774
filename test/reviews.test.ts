import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';

describe('reviews', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Every review counts in the rating here (RATINGS_VERIFIED_ONLY=false: this file checks the
    // review mechanics); the default, verified purchases only, has its test in security/reviews.
    t = await createTestApp({ RATINGS_VERIFIED_ONLY: 'false' });
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  it('takes one review per customer per product, from logged-in customers only', async () => {
    const p = await newProduct({ name: 'Livro de Receitas', basePrice: 5990, availableQuantity: 10 });
    const token = await customer('leitora@example.com');
    expect(
      (await call('POST', `/store/products/${p}/reviews`, { rating: 5, body: 'Ótimo!' }, token)).status,
    ).toBe(201);
    expect(
      (await call<Err>('POST', `/store/products/${p}/reviews`, { rating: 4 }, token)).body.error.code,
    ).toBe('duplicate');
    expect((await call('POST', `/store/products/${p}/reviews`, { rating: 6 }, token)).status).toBe(400);
    expect((await call('POST', `/store/products/${p}/reviews`, { rating: 0 }, token)).status).toBe(400);
    expect(
      (
        await t.server.inject({
          method: 'POST',
          url: `/store/products/${p}/reviews`,
          payload: { rating: 3 },
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await call(
          'POST',
          '/store/products/7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11/reviews',
          { rating: 3 },
          token,
        )
      ).status,
    ).toBe(404);
    const product = await call<{ rating: { average: number; count: number } }>('GET', `/store/products/${p}`);
    expect(product.body.rating).toEqual({ average: 5, count: 1 });
  });
});
