import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';

describe('HTTP skeleton', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
    await t.app.services.seed.seed({ products: 60, seed: 7 });
  });
  afterAll(async () => t?.close());

  const get = (url: string, headers: Record<string, string> = {}) =>
    t.server.inject({ method: 'GET', url, headers });

  it('answers /health/live and /health/ready with per-dependency status', async () => {
    expect((await get('/health/live')).json()).toEqual({ status: 'ok' });
    const ready = await get('/health/ready');
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toMatchObject({
      status: 'ok',
      dependencies: { database: { status: 'ok', required: true } },
    });
  });

  it('serves Prometheus metrics, including HTTP timings and pool usage', async () => {
    await get('/store/products');
    const res = await get('/metrics');
    expect(res.headers['content-type']).toContain('text/plain');
    expect(res.body).toContain('shopflow_http_request_duration_seconds_bucket');
    expect(res.body).toMatch(/shopflow_db_pool_clients\{pool="primary"\} \d+/);
  });

  it('publishes an OpenAPI document listing every route', async () => {
    const doc = (await get('/docs/json')).json<{
      openapi: string;
      paths: Record<string, Record<string, unknown>>;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    for (const [path, method] of [
      ['/health/live', 'get'],
      ['/health/ready', 'get'],
      ['/metrics', 'get'],
      ['/store/products', 'get'],
      ['/store/products/{id}', 'get'],
      ['/store/categories', 'get'],
      ['/admin/api-keys', 'get'],
      ['/admin/api-keys', 'post'],
      ['/admin/api-keys/{id}', 'delete'],
    ] as const) {
      expect(doc.paths[path]?.[method], `${method} ${path}`).toBeDefined();
    }
    expect(JSON.stringify(doc.paths['/admin/api-keys'])).toContain('adminKey');
    expect((await get('/docs')).statusCode).toBeLessThan(400);
  });

  it('echoes a valid X-Request-Id and makes one otherwise', async () => {
    expect((await get('/health/live', { 'x-request-id': 'abc-123' })).headers['x-request-id']).toBe(
      'abc-123',
    );
    expect((await get('/health/live', { 'x-request-id': 'bad id!' })).headers['x-request-id']).toMatch(
      /^[0-9a-f-]{36}$/,
    );
  });

  it('lists products newest first with cursor pagination and no overlaps', async () => {
    const seen = new Set<string>();
    let cursor: string | null = null;
    let pages = 0;
    let previous = Infinity;
    do {
      const res = await get(`/store/products?limit=25${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json<{ items: { id: string; createdAt: string }[]; nextCursor: string | null }>();
      for (const p of body.items) {
        expect(seen.has(p.id)).toBe(false);
        seen.add(p.id);
        expect(Date.parse(p.createdAt)).toBeLessThanOrEqual(previous);
        previous = Date.parse(p.createdAt);
      }
      cursor = body.nextCursor;
      pages++;
    } while (cursor);
    expect(seen.size).toBe(60);
    expect(pages).toBe(3);
  });

  it('filters by price range on base_price and by category including sub-categories', async () => {
    const res = await get('/store/products?minPrice=5000&maxPrice=20000&limit=100');
    const items = res.json<{ items: { basePrice: number }[] }>().items;
    expect(items.length).toBeGreaterThan(0);
    for (const p of items) {
      expect(p.basePrice).toBeGreaterThanOrEqual(5000);
      expect(p.basePrice).toBeLessThanOrEqual(20000);
    }

    const tree = (await get('/store/categories')).json<{
      items: { id: string; slug: string; children: { id: string }[] }[];
    }>().items;
    const moda = tree.find((c) => c.slug === 'moda')!;
    const childIds = new Set(moda.children.map((c) => c.id));
    const inModa = (await get(`/store/products?categoryId=${moda.id}&limit=100`)).json<{
      items: { categoryId: string }[];
    }>().items;
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM products WHERE category_id = ANY($1)',
      [[...childIds]],
    );
    expect(inModa.length).toBe(rows[0]!.n);
    for (const p of inModa) expect(childIds.has(p.categoryId)).toBe(true);
  });

  it('never lists or returns soft-deleted products', async () => {
    const { rows } = await t.db.pool.query<{ id: string }>('SELECT id FROM products ORDER BY id LIMIT 1');
    const id = rows[0]!.id;
    expect((await get(`/store/products/${id}`)).statusCode).toBe(200); // now cached
    const auth = { authorization: `Bearer ${t.adminKey}` };
    expect(
      (await t.server.inject({ method: 'DELETE', url: `/admin/products/${id}`, headers: auth })).statusCode,
    ).toBe(204);
    expect((await get(`/store/products/${id}`)).statusCode).toBe(404);
    const all = (await get('/store/products?limit=100')).json<{ items: { id: string }[] }>().items;
    expect(all.some((p) => p.id === id)).toBe(false);
  });

  it('returns one product with its category and stock', async () => {
    const { rows } = await t.db.pool.query<{ id: string; available_quantity: number }>(
      'SELECT p.id, i.available_quantity FROM products p JOIN inventory i ON i.product_id = p.id WHERE p.deleted_at IS NULL LIMIT 1',
    );
    const res = await get(`/store/products/${rows[0]!.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({
      id: rows[0]!.id,
      currency: 'BRL',
      availableQuantity: rows[0]!.available_quantity,
      // eslint-disable-next-line @typescript-eslint/no-unsafe-assignment
      category: { slug: expect.any(String) },
    });
  });

  describe('errors follow the contract', () => {
    const expectError = (
      res: { statusCode: number; json: () => unknown; body: string },
      status: number,
      code: string,
    ) => {
      expect(res.statusCode).toBe(status);
      const body = res.json() as {
        error: { code: string; message: string; requestId: string; details?: unknown };
      };
      expect(body.error.code).toBe(code);
      expect(body.error.requestId).toBeTruthy();
      expect(res.body).not.toMatch(/\bat .*\.(ts|js):\d+/); // no stack trace
      return body;
    };

    it('400 invalid_request with field details for bad input', async () => {
      const body = expectError(await get('/store/products?limit=101'), 400, 'invalid_request') as {
        error: { details: { field: string }[] };
      };
      expect(body.error.details[0]!.field).toBe('querystring.limit');
      expectError(await get('/store/products?minPrice=-1'), 400, 'invalid_request');
      expectError(await get('/store/products?minPrice=900&maxPrice=100'), 400, 'invalid_request');
      expectError(await get('/store/products?categoryId=not-a-uuid'), 400, 'invalid_request');
      expectError(await get('/store/products?cursor=%%%'), 400, 'invalid_request');
      expectError(await get('/store/products?unknownParam=1'), 400, 'invalid_request');
    });

    it('400 for malformed JSON and 413 for an oversized body', async () => {
      const auth = { authorization: `Bearer ${t.adminKey}`, 'content-type': 'application/json' };
      expectError(
        await t.server.inject({ method: 'POST', url: '/admin/api-keys', headers: auth, payload: '{"name":' }),
        400,
        'invalid_request',
      );
      expectError(
        await t.server.inject({
          method: 'POST',
          url: '/admin/api-keys',
          headers: auth,
          payload: JSON.stringify({ name: 'x'.repeat(2_000_000) }),
        }),
        413,
        'payload_too_large',
      );
    });

    it('404 not_found for unknown ids and routes', async () => {
      expectError(await get('/store/products/7d0c1b8e-6a43-4a2c-9d5e-0d6c1f0e9a11'), 404, 'not_found');
      expectError(await get('/store/products/not-an-id'), 404, 'not_found');
      expectError(await get('/no/such/route'), 404, 'not_found');
    });

    it('401 unauthorized without a valid admin key', async () => {
      expectError(await get('/admin/api-keys'), 401, 'unauthorized');
      expectError(
        await get('/admin/api-keys', { authorization: 'Bearer sf_admin_wrong' }),
        401,
        'unauthorized',
      );
      expectError(
        await get('/admin/api-keys', { authorization: `Basic ${t.adminKey}` }),
        401,
        'unauthorized',
      );
    });
  });

  it('manages admin keys: create, use, list without secrets, revoke', async () => {
    const auth = { authorization: `Bearer ${t.adminKey}` };
    const created = await t.server.inject({
      method: 'POST',
      url: '/admin/api-keys',
      headers: auth,
      payload: { name: 'ci', scopes: ['keys'] },
    });
    expect(created.statusCode).toBe(201);
    const { key, apiKey } = created.json<{ key: string; apiKey: { id: string } }>();
    expect((await get('/admin/api-keys', { authorization: `Bearer ${key}` })).statusCode).toBe(200);

    const { rows } = await t.db.pool.query<{ key_hash: string }>(
      'SELECT key_hash FROM admin_api_keys WHERE id = $1',
      [apiKey.id],
    );
    expect(rows[0]!.key_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.key_hash).not.toContain(key);
    expect((await get('/admin/api-keys', auth)).body).not.toContain(key);

    expect(
      (await t.server.inject({ method: 'DELETE', url: `/admin/api-keys/${apiKey.id}`, headers: auth }))
        .statusCode,
    ).toBe(204);
    expect((await get('/admin/api-keys', { authorization: `Bearer ${key}` })).statusCode).toBe(401);
    expect(
      (await t.server.inject({ method: 'DELETE', url: `/admin/api-keys/${apiKey.id}`, headers: auth }))
        .statusCode,
    ).toBe(404);
  });
});
