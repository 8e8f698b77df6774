/**
 * Erasure and access (GDPR/LGPD): after a customer's erasure, a scan of every table, every Redis
 * key of the app, the search index and the object store finds none of their email, name, phone
 * or address; their orders stay (unlinked), their session is gone, the audit log says who and what.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BucketName } from '../src/platform/storage/object-store.ts';
import { uploadPrefix } from '../src/modules/uploads/uploads.service.ts';
import { createTestApp, type TestApp } from './app.ts';
import { api, PASSWORD, type Err } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import { pdfText } from './helpers/pdf.ts';
import { redisReachable, TEST_REDIS_URL } from './redis.ts';
import { skipUnless } from './helpers/services.ts';

const BUCKETS: BucketName[] = ['productImages', 'userUploads', 'invoices', 'archive', 'backups'];
const redisSkip = skipUnless((await redisReachable()) ? undefined : 'Redis not reachable');

describe.skipIf(redisSkip !== undefined)('erasure and export of a customer', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ REDIS_URL: TEST_REDIS_URL, SESSION_STORE: 'redis' });
    await t.app.worker.start();
  });
  afterAll(async () => t?.close());
  const { call, request, person: register } = api(() => t);
  const tag = randomUUID().slice(0, 8);
  const person = {
    email: `marina.${tag}@example.com`,
    name: `Marina Quintela ${tag}`,
    phone: `+55 11 9${tag.replace(/\D/g, '7').slice(0, 4)}-${tag.replace(/\D/g, '3').slice(4, 8)}`,
    street: `Rua das Acácias ${tag}`,
  };
  const secrets = () => [person.email, person.name, person.phone, person.street];

  /** Everything we can read back, as text: every row of every table, every Redis value of the app, every stored object. */
  async function everything(): Promise<string> {
    const texts: string[] = [];
    const { rows: tables } = await t.db.pool.query<{ schema: string; name: string }>(
      `SELECT table_schema AS schema, table_name AS name FROM information_schema.tables
       WHERE table_type = 'BASE TABLE' AND table_schema IN ('public', 'pgboss')`,
    );
    for (const table of tables) {
      // Identifiers come from the catalog and are quoted; no value is interpolated.
      const { rows } = await t.db.pool.query<{ r: string }>(
        `SELECT row_to_json(x)::text AS r FROM ${pg.escapeIdentifier(table.schema)}.${pg.escapeIdentifier(table.name)} x`,
      );
      texts.push(...rows.map((r) => r.r));
    }
    const redis = new Redis(TEST_REDIS_URL);
    try {
      for await (const keys of redis.scanStream({ match: `${t.redisPrefix}*`, count: 500 }) as AsyncIterable<
        string[]
      >) {
        for (const key of keys) {
          const type = await redis.type(key);
          if (type === 'string') texts.push(`${key} ${await redis.get(key)}`);
          else if (type === 'set') texts.push(`${key} ${(await redis.smembers(key)).join(' ')}`);
          else if (type === 'hash') texts.push(`${key} ${JSON.stringify(await redis.hgetall(key))}`);
          else texts.push(key);
        }
      }
    } finally {
      redis.disconnect();
    }
    for (const bucket of BUCKETS) {
      for await (const o of t.app.objects.list(bucket, '')) {
        const got = await t.app.objects.get(bucket, o.key);
        if (!got) continue;
        texts.push(
          o.key,
          got.contentType === 'application/pdf' ? pdfText(got.body) : got.body.toString('latin1'),
        );
        texts.push(JSON.stringify(got.metadata));
      }
    }
    return texts.join('\n');
  }

  it('exports everything held, then erases it everywhere, keeps the orders unlinked, and can repeat', async () => {
    const { token, customerId } = await register({
      email: person.email,
      name: person.name,
      phone: person.phone,
    });
    await t.db.pool.query(
      `UPDATE customers SET address = jsonb_build_object('street', $2::text, 'city', 'São Paulo') WHERE id = $1`,
      [customerId, person.street],
    );
    const productId = (
      await call<{ id: string }>('POST', '/admin/products', {
        name: 'Caneca Gravada',
        basePrice: 4990,
        availableQuantity: 20,
      })
    ).body.id;
    // A keyed order with an engraving of the customer's name, paid (its invoice prints name and email).
    const placed = await request<{ id: string }>('POST', '/store/orders', {
      token,
      headers: { 'idempotency-key': randomUUID() },
      body: { items: [{ productId, quantity: 1, customization: { engraving: person.name } }] },
    });
    expect(placed.status).toBe(201);
    const orderId = placed.body.id;
    expect(
      (await call('POST', `/store/orders/${orderId}/payments`, { paymentMethod: 'tok_visa' }, token)).status,
    ).toBe(201);
    await eventually(async () => {
      const pdf = await t.app.objects.get('invoices', `invoices/${orderId}.pdf`);
      expect(pdf && pdfText(pdf.body)).toContain(person.name);
    });
    // A review, a cart with a personal note, an uploaded file.
    expect(
      (await call('POST', `/store/products/${productId}/reviews`, { rating: 5, body: 'Linda caneca' }, token))
        .status,
    ).toBe(201);
    const cart = await call<{ id: string }>('POST', '/store/carts', {}, token);
    expect(
      (
        await call(
          'POST',
          `/store/carts/${cart.body.id}/items`,
          { productId, quantity: 1, customization: { note: person.street } },
          token,
        )
      ).status,
    ).toBe(200);
    await t.app.objects.put(
      'userUploads',
      `${uploadPrefix({ customerId })}${randomUUID()}/foto.txt`,
      Buffer.from(person.name),
      {
        contentType: 'text/plain',
      },
    );
    expect(await everything()).toContain(person.email);

    // Access: one JSON document with all of it.
    const exported = await call<{
      profile: { email: string; phone: string };
      addresses: { street: string }[];
      orders: { id: string; items: unknown[]; payments: unknown[] }[];
      reviews: unknown[];
      carts: unknown[];
      uploads: { key: string; url: string }[];
      sessions: { createdAt: string }[];
    }>('GET', '/store/customers/me/export', undefined, token);
    expect(exported.status).toBe(200);
    expect(exported.body.profile).toMatchObject({ email: person.email, phone: person.phone });
    expect(exported.body.addresses[0]!.street).toBe(person.street);
    expect(exported.body.orders.map((o) => o.id)).toEqual([orderId]);
    expect(exported.body.orders[0]!.payments).toHaveLength(1);
    expect(exported.body.reviews).toHaveLength(1);
    expect(exported.body.carts).toHaveLength(1);
    expect(exported.body.uploads).toHaveLength(1);
    expect(exported.body.uploads[0]!.url).toMatch(/^http/);
    expect(exported.body.sessions.length).toBeGreaterThanOrEqual(1);
    const adminExport = await call<{ profile: { email: string } }>(
      'GET',
      `/admin/customers/${customerId}/export`,
    );
    expect(adminExport.body.profile.email).toBe(person.email);

    // Erasure by the customer: the password is asked again.
    expect(
      (await call<Err>('DELETE', '/store/customers/me', { password: 'wrong-one-123' }, token)).status,
    ).toBe(401);
    const erased = await call<{ alreadyAnonymized: boolean; counts: Record<string, number> }>(
      'DELETE',
      '/store/customers/me',
      { password: PASSWORD },
      token,
    );
    expect(erased.status).toBe(200);
    expect(erased.body.alreadyAnonymized).toBe(false);
    expect(erased.body.counts).toMatchObject({
      orders: 1,
      reviews: 1,
      carts: 1,
      customizations: 1,
      idempotencyRecords: 1,
      uploads: 1,
      invoices: 1,
    });
    expect((await call('GET', '/store/me', undefined, token)).status).toBe(401);

    // Nothing of them is left anywhere (the worker's consumer has run its clean-up too).
    await eventually(async () => {
      const all = await everything();
      for (const secret of secrets()) expect(all, secret).not.toContain(secret);
    });
    // The order stays for accounting, unlinked; its invoice is still there, without the name.
    const { rows } = await t.db.pool.query<{ customer_id: string | null; status: string }>(
      'SELECT customer_id, status FROM orders WHERE id = $1',
      [orderId],
    );
    expect(rows).toEqual([{ customer_id: null, status: 'confirmed' }]);
    expect(await t.app.objects.head('invoices', `invoices/${orderId}.pdf`)).toBeDefined();
    // The audit log says who erased what, by category.
    const { rows: audit } = await t.db.pool.query<{ actor_name: string; details: { categories: string[] } }>(
      // (The admin's export above is in the log too: a read of personal data.)
      "SELECT actor_name, details FROM audit_log WHERE target_id = $1 AND action NOT LIKE 'GET %' ORDER BY id",
      [customerId],
    );
    expect(audit[0]!.actor_name).toBe('customer (self-service)');
    expect(audit[0]!.details.categories).toContain('password');
    // Again, by an admin: harmless, and said so; the email can make a new account.
    const again = await call<{ alreadyAnonymized: boolean }>(
      'POST',
      `/admin/customers/${customerId}/anonymize`,
    );
    expect(again.body.alreadyAnonymized).toBe(true);
    expect((await call('POST', `/admin/customers/${randomUUID()}/anonymize`)).status).toBe(404);
    expect((await call('GET', `/admin/customers/${customerId}/export`)).status).toBe(404);
    expect(
      (
        await call(
          'POST',
          '/store/customers',
          { email: person.email, password: PASSWORD, name: 'Nova Conta' },
          null,
        )
      ).status,
    ).toBe(201);
  });

  it('throttles password guesses made through the erasure route like logins', async () => {
    const email = `adivinha-${randomUUID().slice(0, 8)}@example.com`;
    expect(
      (await call('POST', '/store/customers', { email, password: PASSWORD, name: 'Teste' }, null)).status,
    ).toBe(201);
    const token = (
      await call<{ sessionToken: string }>('POST', '/store/auth/login', { email, password: PASSWORD }, null)
    ).body.sessionToken;
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++)
      statuses.push(
        (await call('DELETE', '/store/customers/me', { password: `errada-${i}-xyz` }, token)).status,
      );
    expect(statuses.slice(0, 9).every((s) => s === 401)).toBe(true);
    expect(statuses.at(-1)).toBe(429);
    // Blocked: even the right password is refused until the wait is over, and nothing was erased.
    expect((await call('DELETE', '/store/customers/me', { password: PASSWORD }, token)).status).toBe(429);
    expect((await call('GET', '/store/me', undefined, token)).status).toBe(200);
  });
});
