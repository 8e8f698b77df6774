/**
 * Attack (issue 26, item 4): one leaked integration key could do everything: mint keys, revoke
 * the real admins', erase customers, export anyone's personal data, refund orders. Keys now hold
 * scopes, every admin route needs one (declared in one table, checked by one hook), keys expire,
 * names are unique, and reads of personal data are audited.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ROUTE_RULES } from '../../src/assembly/admin-routes.ts';
import { migrate, migrationFiles } from '../../src/platform/db/migrations.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { createTestDatabase } from '../db.ts';
import { api, type Err } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';

let t: TestApp;
const { call, customer } = api(() => t);

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t?.close());

async function newKey(name: string, scopes: string[], as?: string) {
  const res = await call<{ key: string; apiKey: { id: string; scopes: string[] } } & Err>(
    'POST',
    '/admin/api-keys',
    { name, scopes },
    as,
  );
  return res;
}

describe('scoped admin keys', () => {
  it('declares a scope for every registered admin route, and no line for a route that is gone', async () => {
    const doc = (await t.server.inject({ url: '/docs/json' })).json<{
      paths: Record<string, Record<string, { security?: { adminKey?: string[] }[] }>>;
    }>();
    const registered: string[] = [];
    for (const [path, methods] of Object.entries(doc.paths)) {
      if (!path.startsWith('/admin')) continue;
      for (const method of Object.keys(methods)) {
        if (method === 'head') continue;
        registered.push(`${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`);
      }
    }
    expect(registered.length).toBeGreaterThan(40);
    const undeclared = registered.filter((r) => !(r in ADMIN_ROUTE_RULES));
    expect(undeclared, 'admin routes with no scope in src/assembly/admin-routes.ts').toEqual([]);
    const stale = Object.keys(ADMIN_ROUTE_RULES).filter((r) => !registered.includes(r));
    expect(stale, 'lines of the admin route table that match no route').toEqual([]);
    // The OpenAPI document names the scope of each operation.
    expect(doc.paths['/admin/orders/{id}/refunds']!.post!.security).toEqual([{ adminKey: ['refunds'] }]);
  });

  it('answers a catalog key 403 forbidden on keys, erasure, export and refunds, and changes nothing', async () => {
    await customer('vitima@example.com');
    const { rows } = await t.db.pool.query<{ id: string }>(
      "SELECT id FROM customers WHERE email = 'vitima@example.com'",
    );
    const victim = rows[0]!.id;
    const created = await newKey('integração do catálogo', ['catalog']);
    expect(created.status).toBe(201);
    const catalog = created.body.key;

    expect((await call('GET', '/admin/products', undefined, catalog)).status).toBe(200);
    for (const [method, url, body] of [
      ['GET', '/admin/api-keys'],
      ['POST', '/admin/api-keys', { name: 'mais um', scopes: ['catalog'] }],
      ['POST', `/admin/customers/${victim}/anonymize`],
      ['GET', `/admin/customers/${victim}/export`],
      ['GET', `/admin/customers/${victim}`],
      ['POST', `/admin/orders/${randomUUID()}/refunds`, { amount: 100 }],
    ] as const) {
      const res = await call<Err>(method, url, body, catalog);
      expect(res.status, `${method} ${url}`).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const after = await t.db.pool.query<{ email: string; anonymized_at: Date | null }>(
      'SELECT email, anonymized_at FROM customers WHERE id = $1',
      [victim],
    );
    expect(after.rows[0]).toEqual({ email: 'vitima@example.com', anonymized_at: null });
    expect((await t.db.pool.query("SELECT 1 FROM admin_api_keys WHERE name = 'mais um'")).rowCount).toBe(0);
  });

  it('lets a key grant and revoke only scopes it holds', async () => {
    const keyAdmin = (await newKey('gestor de chaves', ['keys', 'catalog'])).body.key;
    for (const scopes of [['*'], ['privacy'], ['catalog', 'refunds']]) {
      const res = await newKey(`tentativa ${scopes.join()}`, scopes, keyAdmin);
      expect(res.status, scopes.join()).toBe(403);
      expect(res.body.error.code).toBe('forbidden');
    }
    const granted = await newKey('só catálogo', ['catalog'], keyAdmin);
    expect(granted.status).toBe(201);
    expect(granted.body.apiKey.scopes).toEqual(['catalog']);
    // The all-powerful key of the test app cannot be revoked by it; the key it made can.
    const all = await call<{ items: { id: string; name: string }[] }>(
      'GET',
      '/admin/api-keys',
      undefined,
      keyAdmin,
    );
    const root = all.body.items.find((k) => k.name === 'test')!;
    const revokeRoot = await call<Err>('DELETE', `/admin/api-keys/${root.id}`, undefined, keyAdmin);
    expect(revokeRoot.status).toBe(403);
    expect((await call('GET', '/admin/api-keys')).status).toBe(200);
    expect(
      (await call('DELETE', `/admin/api-keys/${granted.body.apiKey.id}`, undefined, keyAdmin)).status,
    ).toBe(204);
  });

  it('tells a key its own scopes', async () => {
    const created = await newKey('leitor', ['orders', 'inventory']);
    const me = await call<{ name: string; scopes: string[]; expiresAt: string | null }>(
      'GET',
      '/admin/api-keys/me',
      undefined,
      created.body.key,
    );
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ name: 'leitor', scopes: ['inventory', 'orders'], expiresAt: null });
  });

  it('refuses an expired key (401) and a second live key of the same name (409 duplicate, field name)', async () => {
    const res = await call<{ key: string; apiKey: { id: string; expiresAt: string } }>(
      'POST',
      '/admin/api-keys',
      {
        name: 'temporária',
        scopes: ['catalog'],
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      },
    );
    expect(res.status).toBe(201);
    expect((await call('GET', '/admin/products', undefined, res.body.key)).status).toBe(200);
    await t.db.pool.query(
      "UPDATE admin_api_keys SET expires_at = NOW() - INTERVAL '1 second' WHERE id = $1",
      [res.body.apiKey.id],
    );
    expect((await call<Err>('GET', '/admin/products', undefined, res.body.key)).body.error.code).toBe(
      'unauthorized',
    );

    const dup = await newKey('TEMPORÁRIA', ['catalog']);
    expect(dup.status).toBe(409);
    expect(dup.body.error).toMatchObject({ code: 'duplicate', details: [{ field: 'name' }] });
    const past = await call<Err>('POST', '/admin/api-keys', {
      name: 'passada',
      scopes: ['catalog'],
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    expect(past.status).toBe(400);
  });

  it('stamps last use at most once a minute per key, not on every request', async () => {
    const created = await newKey('carimbo', ['catalog']);
    const stamp = async () =>
      (
        await t.db.pool.query<{ at: Date | null; xmin: string }>(
          'SELECT last_used_at AS at, xmin::text FROM admin_api_keys WHERE id = $1',
          [created.body.apiKey.id],
        )
      ).rows[0]!;
    expect((await stamp()).at).toBeNull();
    await call('GET', '/admin/products', undefined, created.body.key);
    const first = await stamp();
    expect(first.at).not.toBeNull();
    for (let i = 0; i < 5; i++) await call('GET', '/admin/products', undefined, created.body.key);
    // Same row version: no write since the first stamp.
    expect(await stamp()).toEqual(first);
  });

  it('audits reads of personal data with actor and target', async () => {
    await customer('lida@example.com');
    const { rows } = await t.db.pool.query<{ id: string }>(
      "SELECT id FROM customers WHERE email = 'lida@example.com'",
    );
    const id = rows[0]!.id;
    const reader = await newKey('atendimento', ['customers', 'privacy']);
    expect((await call('GET', `/admin/customers/${id}`, undefined, reader.body.key)).status).toBe(200);
    expect((await call('GET', `/admin/customers/${id}/export`, undefined, reader.body.key)).status).toBe(200);
    expect((await call('GET', '/admin/customers?q=lida', undefined, reader.body.key)).status).toBe(200);
    // Entries are written after each response.
    const audit = await eventually(async () => {
      const found = await t.db.pool.query<{
        actor_name: string;
        action: string;
        target_id: string | null;
        details: { customerIds?: string[] } | null;
      }>(
        "SELECT actor_name, action, target_id, details FROM audit_log WHERE actor_name = 'atendimento' ORDER BY id",
      );
      expect(found.rows.map((r) => [r.action, r.target_id])).toEqual([
        ['GET /admin/customers/:id', id],
        ['GET /admin/customers/:id/export', id],
        ['GET /admin/customers', null],
      ]);
      return found;
    });
    expect(audit.rows[2]!.details!.customerIds).toEqual([id]);
    expect(JSON.stringify(audit.rows)).not.toContain('lida@');
    // Reads of other data are not audited.
    await call('GET', '/admin/products', undefined, reader.body.key);
    expect(
      (await t.db.pool.query("SELECT 1 FROM audit_log WHERE action = 'GET /admin/products'")).rowCount,
    ).toBe(0);
  });
});

describe('the scopes migration', () => {
  it('makes every existing key `*` (it keeps working) and renames a second live key of the same name', async () => {
    const db = await createTestDatabase();
    try {
      const files = migrationFiles();
      const since = files.length - files.indexOf('1765267200000_admin-key-scopes.sql');
      await migrate({ databaseUrl: db.url, direction: 'down', count: since });
      await db.pool.query(
        `INSERT INTO admin_api_keys (name, key_prefix, key_hash, created_at) VALUES
           ('ops', 'sf_admin_aaaaaaa', repeat('a', 64), NOW() - INTERVAL '2 days'),
           ('OPS', 'sf_admin_bbbbbbb', repeat('b', 64), NOW() - INTERVAL '1 day')`,
      );
      await migrate({ databaseUrl: db.url, direction: 'up' });
      const { rows } = await db.pool.query<{ name: string; scopes: string[]; expires_at: Date | null }>(
        'SELECT name, scopes, expires_at FROM admin_api_keys ORDER BY created_at',
      );
      expect(rows).toEqual([
        { name: 'ops', scopes: ['*'], expires_at: null },
        { name: 'OPS (sf_admin_bbbbbbb)', scopes: ['*'], expires_at: null },
      ]);
    } finally {
      await db.drop();
    }
  });
});
