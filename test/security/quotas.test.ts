/**
 * Attack (issue 26, item 6): storage without bounds per caller. `POST /store/uploads` had only a
 * rate limit (10 MB each: terabytes a day from one address), uploads no order used never expired,
 * one owner could open carts without end, and customer carts were never purged. Now: a quota of
 * uploads not yet used in an order (count and declared bytes) per owner, a job deleting old
 * unreferenced uploads, a cap on active carts per owner, and a job purging idle customer carts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api, type Err } from '../helpers/api.ts';

let t: TestApp;
const { call, customer } = api(() => t);

beforeAll(async () => {
  t = await createTestApp({
    UPLOADS_PER_OWNER: '3',
    UPLOAD_BYTES_PER_OWNER: '1000',
    UPLOAD_UNREFERENCED_HOURS: '2',
    CARTS_PER_OWNER: '2',
    CUSTOMER_CART_RETENTION_DAYS: '30',
  });
});
afterAll(async () => t?.close());

const upload = (token: string | null, size = 100, fileName = 'foto.png') =>
  call<{ key: string; sessionToken?: string } & Err>(
    'POST',
    '/store/uploads',
    { fileName, contentType: 'image/png', size },
    token,
  );

describe('upload quota per owner', () => {
  it('hands out at most the configured count of uploads at once, 409 upload_quota_exceeded beyond', async () => {
    const first = await upload(null);
    const guest = first.body.sessionToken!;
    const rest = await Promise.all(Array.from({ length: 20 }, () => upload(guest)));
    expect(rest.filter((r) => r.status === 201)).toHaveLength(2);
    const refused = rest.filter((r) => r.status !== 201);
    expect(refused).toHaveLength(18);
    for (const r of refused) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('upload_quota_exceeded');
    }
    // Another owner has its own quota.
    expect((await upload(null)).status).toBe(201);
  });

  it('counts declared bytes too', async () => {
    const token = await customer('bytes@example.com');
    expect((await upload(token, 600)).status).toBe(201);
    const over = await upload(token, 500);
    expect(over.status).toBe(409);
    expect(over.body.error).toMatchObject({
      code: 'upload_quota_exceeded',
      details: { bytes: 600, maxBytes: 1000 },
    });
    expect((await upload(token, 400)).status).toBe(201);
  });

  it('frees an upload from the quota once an order uses it', async () => {
    const token = await customer('caneca@example.com');
    const keys: string[] = [];
    for (let i = 0; i < 3; i++) keys.push((await upload(token)).body.key);
    expect((await upload(token)).status).toBe(409);
    const product = await t.app.services.catalog.createProduct({
      name: 'Caneca',
      basePrice: 3990,
      availableQuantity: 5,
    });
    const order = await call(
      'POST',
      '/store/orders',
      { items: [{ productId: product.id, quantity: 1, customization: { uploadKey: keys[0] } }] },
      token,
    );
    expect(order.status).toBe(201);
    expect((await upload(token)).status).toBe(201);
  });
});

describe('expiry of uploads no order uses', () => {
  it('deletes old unreferenced uploads (object and record), keeps used and recent ones', async () => {
    const token = await customer('expira@example.com');
    const [old, used, recent] = [
      (await upload(token, 10, 'velho.png')).body.key,
      (await upload(token, 10, 'usado.png')).body.key,
      (await upload(token, 10, 'novo.png')).body.key,
    ];
    for (const key of [old, used, recent])
      await t.app.objects.put('userUploads', key, Buffer.from('png'), { contentType: 'image/png' });
    const product = await t.app.services.catalog.createProduct({
      name: 'Quadro',
      basePrice: 100,
      availableQuantity: 5,
    });
    expect(
      (
        await call(
          'POST',
          '/store/orders',
          { items: [{ productId: product.id, quantity: 1, customization: { uploadKey: used } }] },
          token,
        )
      ).status,
    ).toBe(201);
    await t.db.pool.query(
      "UPDATE upload_records SET created_at = NOW() - INTERVAL '3 hours' WHERE key = ANY($1)",
      [[old, used]],
    );

    const run = await t.app.jobs.run('expire-uploads', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    expect(await t.app.objects.head('userUploads', old)).toBeUndefined();
    expect(await t.app.objects.head('userUploads', used)).toBeDefined();
    expect(await t.app.objects.head('userUploads', recent)).toBeDefined();
    const { rows } = await t.db.pool.query<{ key: string }>(
      'SELECT key FROM upload_records WHERE key = ANY($1)',
      [[old, used, recent]],
    );
    expect(rows.map((r) => r.key).sort()).toEqual([used, recent].sort());
    // Listed with the other jobs (what `shopflow jobs list` and GET /admin/jobs show).
    const jobs = await call<{ items: { name: string; schedule: string | null }[] }>('GET', '/admin/jobs');
    expect(jobs.body.items.find((j) => j.name === 'expire-uploads')?.schedule).toBe('25 * * * *');
    expect(jobs.body.items.find((j) => j.name === 'purge-customer-carts')?.schedule).toBe('35 3 * * *');
  });
});

describe('carts per owner', () => {
  it('caps active carts per guest session and per customer, 409 cart_limit_reached', async () => {
    const first = await t.server.inject({ method: 'POST', url: '/store/carts' });
    expect(first.statusCode).toBe(201);
    const guest = first.json<{ sessionToken: string }>().sessionToken;
    const more = await Promise.all(
      Array.from({ length: 10 }, () => call<Err>('POST', '/store/carts', undefined, guest)),
    );
    expect(more.filter((r) => r.status === 201)).toHaveLength(1);
    for (const r of more.filter((x) => x.status !== 201)) {
      expect(r.status).toBe(409);
      expect(r.body.error.code).toBe('cart_limit_reached');
    }
    const token = await customer('carrinhos@example.com');
    expect((await call('POST', '/store/carts', undefined, token)).status).toBe(201);
    expect((await call('POST', '/store/carts', undefined, token)).status).toBe(201);
    expect((await call<Err>('POST', '/store/carts', undefined, token)).body.error.code).toBe(
      'cart_limit_reached',
    );
  });

  it('purges customer carts untouched for the retention, keeping recent and checked-out ones', async () => {
    const token = await customer('ocioso@example.com');
    const idle = (await call<{ id: string }>('POST', '/store/carts', undefined, token)).body.id;
    const fresh = (await call<{ id: string }>('POST', '/store/carts', undefined, token)).body.id;
    // Backdated with the updated_at trigger off (it stamps NOW() on every update).
    const client = await t.db.pool.connect();
    try {
      await client.query('BEGIN');
      await client.query('ALTER TABLE carts DISABLE TRIGGER carts_updated_at');
      await client.query("UPDATE carts SET updated_at = NOW() - INTERVAL '31 days' WHERE id = $1", [idle]);
      await client.query(
        "UPDATE carts SET updated_at = NOW() - INTERVAL '400 days', status = 'checked_out' WHERE id = $1",
        [fresh],
      );
      await client.query('ALTER TABLE carts ENABLE TRIGGER carts_updated_at');
      await client.query('COMMIT');
    } finally {
      client.release();
    }
    const recent = (await call<{ id: string }>('POST', '/store/carts', undefined, token)).body.id;
    const run = await t.app.jobs.run('purge-customer-carts', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    const { rows } = await t.db.pool.query<{ id: string }>('SELECT id FROM carts WHERE id = ANY($1)', [
      [idle, fresh, recent],
    ]);
    expect(rows.map((r) => r.id).sort()).toEqual([fresh, recent].sort());
  });
});
