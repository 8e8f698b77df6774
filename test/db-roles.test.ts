/**
 * The least-privilege database identities (`shopflow db roles`, src/platform/db/roles.ts) against
 * the real PostgreSQL: the migrate user applies every migration on an empty database, the app user
 * places an order and refreshes the stats, and cannot CREATE or DROP a table.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { migrate } from '../src/platform/db/migrations.ts';
import { ensureDatabaseRoles, type DatabaseRoles } from '../src/platform/db/roles.ts';
import { createLogger } from '../src/platform/logger.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { httpClient } from './helpers/fetch.ts';

const suffix = randomBytes(4).toString('hex');
const roles: DatabaseRoles = {
  app: { user: `sf_app_user_${suffix}`, password: `app'pw "${suffix}` },
  migrate: { user: `sf_migrate_user_${suffix}`, password: `migrate-${suffix}` },
  appGroup: `sf_app_${suffix}`,
  migrateGroup: `sf_migrate_${suffix}`,
};
const as = (url: string, login: { user: string; password: string }) => {
  const u = new URL(url);
  u.username = encodeURIComponent(login.user);
  u.password = encodeURIComponent(login.password);
  return u.toString();
};

async function withClient<T>(url: string, fn: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

describe('database roles', () => {
  let db: TestDatabase;
  let app: App | undefined;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
    // Twice: the bootstrap is idempotent (run before every migrate up).
    for (let i = 0; i < 2; i += 1) await withClient(db.url, (c) => ensureDatabaseRoles(c, roles));
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
    await withClient(db.url.replace(/\/[^/?]+(\?|$)/, '/postgres$1'), async (c) => {
      for (const r of [roles.app.user, roles.migrate.user, roles.appGroup!, roles.migrateGroup!])
        // Generated names above, quoted.
        await c.query(`DROP ROLE IF EXISTS ${pg.escapeIdentifier(r)}`);
    });
  });

  it('lets the migrate user apply every migration, the objects owned by the migrate role', async () => {
    const ran = await migrate({ databaseUrl: as(db.url, roles.migrate), direction: 'up' });
    expect(ran.length).toBeGreaterThan(10);
    const { rows } = await db.pool.query<{ owner: string; n: number }>(
      `SELECT tableowner AS owner, count(*)::int AS n FROM pg_tables WHERE schemaname = 'public' GROUP BY 1`,
    );
    expect(rows.map((r) => r.owner)).toEqual([roles.migrateGroup]);
  });

  it('hands the schema to the migrate role on a database the administrator migrated (or restored) first', async () => {
    const earlier = await createTestDatabase({ empty: true });
    try {
      await migrate({ databaseUrl: earlier.url, direction: 'up' });
      await withClient(earlier.url, (c) => ensureDatabaseRoles(c, roles));
      const { rows } = await earlier.pool.query<{ kind: string; name: string }>(
        `SELECT 'relation' AS kind, c.relname AS name FROM pg_class c
           WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'v', 'm')
             AND c.relowner <> $1::regrole
         UNION ALL
         SELECT 'function', p.proname FROM pg_proc p
           WHERE p.pronamespace = 'public'::regnamespace AND p.proowner <> $1::regrole
             AND NOT EXISTS (SELECT 1 FROM pg_depend e WHERE e.objid = p.oid AND e.deptype = 'e')`,
        [roles.migrateGroup],
      );
      expect(rows).toEqual([]);
      // The migrate user may now roll the newest migration back and apply it again.
      const login = as(earlier.url, roles.migrate);
      expect(await migrate({ databaseUrl: login, direction: 'down', count: 1 })).toHaveLength(1);
      expect(await migrate({ databaseUrl: login, direction: 'up' })).toHaveLength(1);
    } finally {
      await earlier.drop();
    }
  });

  it('lets the app user place an order and refresh the stats, not create or drop a table', async () => {
    const config = loadConfig({
      DATABASE_URL: as(db.url, roles.app),
      LOG_LEVEL: 'silent',
      PAYMENT_PROVIDER: 'test',
      REDIS_KEY_PREFIX: `t${suffix}:`,
      CRON_BACKUP_CREATE: 'off',
      CRON_BACKUP_VERIFY: 'off',
      CRON_BACKUP_PRUNE: 'off',
    });
    app = await createApp(config, { logger: createLogger('silent') });
    const server = await app.buildServer();
    const base = await server.listen({ host: '127.0.0.1', port: 0 });
    const { key } = await app.services.adminKeys.create({ name: 'roles', scopes: ['*'] });
    const { admin, store } = httpClient(() => ({ base, adminKey: key }));
    const product = await admin<{ id: string }>('POST', '/admin/products', {
      name: 'Caneca',
      basePrice: 4990,
      availableQuantity: 3,
    });
    expect(product.status).toBe(201);
    const order = await store<{ totalAmount: number }>('POST', '/store/orders', {
      items: [{ productId: product.body.id, quantity: 2 }],
    });
    expect(order.status).toBe(201);
    expect(order.body.totalAmount).toBe(9980);
    await app.services.stats.refresh();

    await withClient(as(db.url, roles.app), async (c) => {
      const { rows } = await c.query<{ current_user: string; rolsuper: boolean }>(
        'SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user',
      );
      expect(rows[0]).toEqual({ current_user: roles.app.user, rolsuper: false });
      await expect(c.query('CREATE TABLE intruder (id int)')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('DROP TABLE orders')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('ALTER TABLE orders ADD COLUMN x int')).rejects.toMatchObject({ code: '42501' });
    });
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM orders');
    expect(rows[0]!.n).toBe(1);
  });
});
