import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import pg from 'pg';
import { checksum, migrate, migrationFiles, migrationUrl, readChecksums } from './migrations.ts';

describe('landed migrations', () => {
  it('are unchanged: each file matches its recorded checksum', () => {
    const sums = readChecksums();
    for (const file of migrationFiles()) {
      expect(sums[file], `${file} has no recorded checksum: run \`npm run migrate -- lock\``).toBeDefined();
      expect(checksum(file), `${file} changed after landing: add a new migration instead`).toBe(sums[file]);
    }
  });

  it('have no recorded checksum whose file is gone', () => {
    const files = new Set(migrationFiles());
    for (const recorded of Object.keys(readChecksums()))
      expect(files.has(recorded), `${recorded} was removed`).toBe(true);
  });
});

describe('migrations on an empty database', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => db?.drop());

  const indexDef = async (name: string) =>
    (
      await db.pool.query<{ def: string }>('SELECT indexdef AS def FROM pg_indexes WHERE indexname = $1', [
        name,
      ])
    ).rows[0]?.def;

  it('go up, down to zero and up again', async () => {
    const all = migrationFiles().length;
    expect(await migrate({ databaseUrl: db.url, direction: 'up' })).toHaveLength(all);
    expect(await migrate({ databaseUrl: db.url, direction: 'down', count: Infinity })).toHaveLength(all);
    const { rows } = await db.pool.query<{ n: number }>(
      "SELECT COUNT(*) AS n FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'pgmigrations'",
    );
    expect(rows[0]!.n).toBe(0);
    expect(await migrate({ databaseUrl: db.url, direction: 'up' })).toHaveLength(all);
  });

  it('create every table of the original design and the ones it implies', async () => {
    const { rows } = await db.pool.query<{ tablename: string }>(
      "SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
    );
    const tables = rows.map((r) => r.tablename);
    for (const t of [
      'products',
      'orders',
      'order_items',
      'inventory',
      'categories',
      'customers',
      'reviews',
      'carts',
      'cart_items',
      'payment_attempts',
      'product_images',
      'outbox',
      'admin_api_keys',
      'sessions',
      'idempotency_keys',
    ])
      expect(tables).toContain(t);
  });

  it("create the original design's indexes with its definitions", async () => {
    expect(await indexDef('idx_products_category')).toMatch(
      /btree \(category_id\) WHERE \(deleted_at IS NULL\)/,
    );
    expect(await indexDef('idx_products_created')).toMatch(/btree \(created_at DESC\)/);
    expect(await indexDef('idx_orders_customer')).toMatch(/btree \(customer_id\)/);
    expect(await indexDef('idx_orders_status')).toMatch(/btree \(status\) WHERE .*delivered.*cancelled/);
    expect(await indexDef('idx_orders_created')).toMatch(/btree \(created_at DESC\)/);
    expect(await indexDef('idx_order_items_order')).toMatch(/btree \(order_id\)/);
    expect(await indexDef('idx_order_items_customization')).toMatch(/USING gin \(customization\)/);
    expect(await indexDef('idx_inventory_low_stock')).toMatch(
      /btree \(available_quantity\) WHERE \(available_quantity < 10\)/,
    );
  });

  it("keep the original design's column types and defaults", async () => {
    const { rows } = await db.pool.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      column_default: string | null;
      is_nullable: string;
    }>(
      `SELECT table_name, column_name, data_type, column_default, is_nullable FROM information_schema.columns
       WHERE table_schema = 'public' AND table_name IN ('products', 'orders', 'order_items', 'inventory')`,
    );
    const col = (t: string, c: string) => rows.find((r) => r.table_name === t && r.column_name === c);
    expect(col('products', 'base_price')).toMatchObject({ data_type: 'integer', is_nullable: 'NO' });
    expect(col('products', 'deleted_at')).toMatchObject({
      data_type: 'timestamp with time zone',
      is_nullable: 'YES',
    });
    expect(col('orders', 'currency')?.column_default).toContain("'BRL'");
    expect(col('orders', 'status')).toMatchObject({ data_type: 'character varying', is_nullable: 'NO' });
    expect(col('order_items', 'customization')?.data_type).toBe('jsonb');
    expect(col('inventory', 'reserved_quantity')).toMatchObject({ column_default: '0', is_nullable: 'NO' });
  });

  it('index every foreign key (deleting or archiving the referenced row must not scan the table)', async () => {
    const { rows } = await db.pool.query<{ tbl: string; cols: string[] }>(
      `SELECT c.conrelid::regclass::text AS tbl, array_agg(a.attname::text ORDER BY x.n) AS cols
         FROM pg_constraint c
         CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS x(attnum, n)
         JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = x.attnum
        WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
          AND NOT EXISTS (
            SELECT 1 FROM pg_index i
             WHERE i.indrelid = c.conrelid AND i.indisvalid
               AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] @> c.conkey
               AND (i.indkey::int2[])[0:cardinality(c.conkey) - 1] <@ c.conkey)
        GROUP BY c.conrelid, c.conname`,
    );
    expect(rows.map((r) => `${r.tbl}(${r.cols.join(', ')})`)).toEqual([]);
  });

  it('enforce the constraints the original design forgot', async () => {
    const { rows } = await db.pool.query<{ id: string }>(
      "INSERT INTO products (name, base_price) VALUES ('Caneca', 2990) RETURNING id",
    );
    const id = rows[0]!.id;
    await expect(
      db.pool.query('INSERT INTO inventory (product_id, available_quantity) VALUES ($1, -1)', [id]),
    ).rejects.toMatchObject({ code: '23514' });
    await db.pool.query('INSERT INTO inventory (product_id, available_quantity) VALUES ($1, 1)', [id]);
    await expect(
      db.pool.query('UPDATE inventory SET reserved_quantity = -1 WHERE product_id = $1', [id]),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.pool.query(
        'UPDATE inventory SET available_quantity = available_quantity - 2 WHERE product_id = $1',
        [id],
      ),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      db.pool.query("INSERT INTO orders (status, total_amount) VALUES ('lost', 0)"),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(db.pool.query('INSERT INTO orders (total_amount) VALUES (0)')).rejects.toMatchObject({
      code: '23502',
    });
  });

  it('maintain updated_at in the database', async () => {
    const { rows } = await db.pool.query<{ id: string; updated_at: Date }>(
      "INSERT INTO products (name, base_price, updated_at) VALUES ('Vaso', 990, NOW() - INTERVAL '1 day') RETURNING id, updated_at",
    );
    const before = rows[0]!;
    const after = await db.pool.query<{ updated_at: Date }>(
      "UPDATE products SET name = 'Vaso Azul' WHERE id = $1 RETURNING updated_at",
      [before.id],
    );
    expect(after.rows[0]!.updated_at.getTime()).toBeGreaterThan(before.updated_at.getTime());
  });
});

describe("the migrations' own timeouts", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => db?.drop());

  it('run with no statement limit whatever the database default, and give up on a lock they wait for', async () => {
    const database = new URL(db.url).pathname.slice(1);
    // A database default that would cancel a long CREATE INDEX CONCURRENTLY (as the RDS parameter
    // group's 60 s did): the migration connection's own setting wins.
    await db.pool.query(`ALTER DATABASE ${pg.escapeIdentifier(database)} SET statement_timeout = '1ms'`);
    const client = new pg.Client({ connectionString: migrationUrl(db.url, 5000) });
    await client.connect();
    try {
      const show = async (name: string) =>
        (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]![name];
      expect(await show('statement_timeout')).toBe('0');
      expect(await show('lock_timeout')).toBe('5s');
    } finally {
      await client.end();
    }
    expect((await migrate({ databaseUrl: db.url, direction: 'up', lockTimeoutMillis: 5000 })).length).toBe(
      migrationFiles().length,
    );
    // A long transaction holds a lock the migration needs: it fails fast instead of queueing.
    // (its own connection without the 1 ms default: no timeout at all)
    const holder = new pg.Client({ connectionString: migrationUrl(db.url, 0) });
    await holder.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('LOCK TABLE pgmigrations IN ACCESS EXCLUSIVE MODE');
      await expect(migrate({ databaseUrl: db.url, direction: 'up', lockTimeoutMillis: 100 })).rejects.toThrow(
        /lock timeout/,
      );
    } finally {
      await holder.query('ROLLBACK');
      await holder.end();
    }
  });
});
