/**
 * The variants migration (issue 28) on a database of the previous release with orders in it: the
 * expand migrations, the batched backfill while the previous release keeps placing orders (its own
 * one-statement order, by product), then the key switch. Every order, stock level and statistic
 * is kept, and stock is keyed by each product's default variant (the product's id).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { migrate, migrationFiles } from '../src/platform/db/migrations.ts';
import { backfillVariants } from '../src/main/catalog.ts';

const FIRST_VARIANTS_MIGRATION = '1765300000000';
const PRODUCTS = 120;

describe('upgrading to variants', () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase({ empty: true });
  });
  afterAll(async () => db?.drop());

  const q = async <T extends object>(sql: string, values: unknown[] = []) =>
    (await db.pool.query<T>(sql, values)).rows;

  /** The previous release's one-product order statement (by product, no variant). */
  const oldOrder = async (productId: string, guest: string) =>
    (
      await q<{ id: string }>(
        `WITH r AS (
           UPDATE inventory i SET available_quantity = i.available_quantity - 1, reserved_quantity = i.reserved_quantity + 1
           FROM products p
           WHERE i.product_id = $1 AND p.id = $1 AND p.deleted_at IS NULL AND i.available_quantity >= 1
           RETURNING i.product_id, p.base_price
         ), o AS (
           INSERT INTO orders (id, guest_session_id, status, total_amount, currency)
           SELECT $2, $3, 'pending', r.base_price, 'BRL' FROM r RETURNING id
         ), i AS (
           INSERT INTO order_items (order_id, product_id, quantity, unit_price)
           SELECT $2, r.product_id, 1, r.base_price FROM r RETURNING id
         )
         SELECT id FROM o`,
        [productId, randomUUID(), guest],
      )
    ).length;

  it('keeps every order, stock level and statistic, and orders go on during the backfill', async () => {
    const before = migrationFiles().filter((f) => f < FIRST_VARIANTS_MIGRATION).length;
    const variantsMigrations = migrationFiles().filter((f) => f >= FIRST_VARIANTS_MIGRATION);
    await migrate({ databaseUrl: db.url, direction: 'up', count: before });

    // The previous release's catalog: products with stock, orders (open and delivered), a review.
    const [cat] = await q<{ id: string }>(
      "INSERT INTO categories (name, slug) VALUES ('Casa', 'casa') RETURNING id",
    );
    const products = await q<{ id: string }>(
      `INSERT INTO products (name, base_price, category_id)
       SELECT 'Produto ' || n, 1000 + n * 10, $1 FROM generate_series(1, $2) AS n RETURNING id`,
      [cat!.id, PRODUCTS],
    );
    const ids = products.map((p) => p.id);
    await q('INSERT INTO inventory (product_id, available_quantity) SELECT unnest($1::uuid[]), 50', [ids]);
    for (let k = 0; k < 10; k++) expect(await oldOrder(ids[k]!, 'guest-before')).toBe(1);
    await q("UPDATE orders SET status = 'delivered' WHERE id IN (SELECT id FROM orders LIMIT 3)");
    await q(
      `UPDATE inventory i SET reserved_quantity = i.reserved_quantity - 1
       FROM order_items oi JOIN orders o ON o.id = oi.order_id
       WHERE o.status = 'delivered' AND i.product_id = oi.product_id`,
    );
    const [customer] = await q<{ id: string }>(
      "INSERT INTO customers (email, name) VALUES ('ana@example.com', 'Ana') RETURNING id",
    );
    await q('INSERT INTO reviews (product_id, customer_id, rating) VALUES ($1, $2, 4)', [
      ids[0],
      customer!.id,
    ]);

    // Expand (everything but the key switch); the previous release still runs against it.
    await migrate({ databaseUrl: db.url, direction: 'up', count: variantsMigrations.length - 1 });

    // The backfill, in small batches, while the previous release places orders.
    let placing = true;
    let placed = 0;
    const orders = (async () => {
      for (let k = 0; placing || k < 20; k++) placed += await oldOrder(ids[k % PRODUCTS]!, 'guest-during');
    })();
    const backfill = await backfillVariants(db.pool, { batchSize: 7 });
    placing = false;
    await orders;
    expect(backfill.products).toBe(PRODUCTS);
    expect(placed).toBeGreaterThanOrEqual(20);
    // A product the previous release creates after the backfill: the key switch catches it up.
    const [late] = await q<{ id: string }>(
      "INSERT INTO products (name, base_price) VALUES ('Produto tardio', 990) RETURNING id",
    );
    await q('INSERT INTO inventory (product_id, available_quantity) VALUES ($1, 4)', [late!.id]);

    await q('SELECT refresh_product_stats()');
    const stock = await q(
      'SELECT product_id, available_quantity, reserved_quantity FROM inventory ORDER BY 1',
    );
    const statsSql =
      'SELECT product_id, name, total_orders, total_sold, avg_rating, review_count FROM product_stats ORDER BY product_id';
    const stats = await q(statsSql);
    const orderRows = await q('SELECT id, status, total_amount FROM orders ORDER BY id');
    const items = await q(
      'SELECT id, order_id, product_id, quantity, unit_price FROM order_items ORDER BY id',
    );

    // The key switch.
    await migrate({ databaseUrl: db.url, direction: 'up' });

    expect(
      await q('SELECT product_id, available_quantity, reserved_quantity FROM inventory ORDER BY 1'),
    ).toEqual(stock);
    expect(await q('SELECT id, status, total_amount FROM orders ORDER BY id')).toEqual(orderRows);
    expect(
      await q('SELECT id, order_id, product_id, quantity, unit_price FROM order_items ORDER BY id'),
    ).toEqual(items);
    await q('SELECT refresh_product_stats()');
    expect(await q(statsSql)).toEqual(stats);
    // Every product has its default variant: its own id, its price, no options; its stock row is that variant's.
    const [check] = await q<{ products: number; defaults: number; keyed: number; slugs: number }>(
      `SELECT (SELECT COUNT(*)::int FROM products) AS products,
              (SELECT COUNT(*)::int FROM product_variants v JOIN products p ON p.id = v.id
                WHERE v.product_id = p.id AND v.price = p.base_price AND v.options = '{}'::jsonb) AS defaults,
              (SELECT COUNT(*)::int FROM inventory WHERE variant_id = product_id) AS keyed,
              (SELECT COUNT(DISTINCT slug)::int FROM products) AS slugs`,
    );
    expect(check).toEqual({
      products: PRODUCTS + 1,
      defaults: PRODUCTS + 1,
      keyed: PRODUCTS + 1,
      slugs: PRODUCTS,
    });
    // What open orders hold per variant is what stock says is reserved.
    const drift = await q(
      `SELECT i.variant_id FROM inventory i
       LEFT JOIN (SELECT COALESCE(oi.variant_id, oi.product_id) AS variant_id, SUM(oi.quantity)::int AS held
                  FROM order_items oi JOIN orders o ON o.id = oi.order_id
                  WHERE o.status IN ('pending', 'confirmed') GROUP BY 1) h ON h.variant_id = i.variant_id
       WHERE i.reserved_quantity <> COALESCE(h.held, 0)`,
    );
    expect(drift).toEqual([]);
    // The previous release's stock insert still works while it drains (the trigger keys it).
    const [drain] = await q<{ id: string }>(
      "INSERT INTO products (name, base_price) VALUES ('Produto do velho', 500) RETURNING id",
    );
    await q('INSERT INTO inventory (product_id, available_quantity) VALUES ($1, 1)', [drain!.id]);
    expect(await q('SELECT variant_id FROM inventory WHERE product_id = $1', [drain!.id])).toEqual([
      { variant_id: drain!.id },
    ]);
    // And the switch rolls back and forward again.
    await migrate({ databaseUrl: db.url, direction: 'down', count: 1 });
    await migrate({ databaseUrl: db.url, direction: 'up' });
  });
});
