/**
 * The variants migration (issue 28) on a database of the previous release with a million products
 * (`npm run bench:variants-migration -- [--products N]`): how long each step takes (the expand
 * migrations with their concurrent index builds, the batched backfill, the key switch), and how
 * many orders the previous release places meanwhile (its own one-statement order by product, on 4
 * connections, for the whole run), with the longest any one order waited. Figures go to standard
 * output; the database is dropped at the end.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { databaseUrl } from './lib/database.ts';
import { migrate, migrationFiles } from '../src/platform/db/migrations.ts';
import { backfillVariants } from '../src/main/catalog.ts';

const NAME = 'shopflow_bench_variants';
const FIRST_VARIANTS_MIGRATION = '1765300000000';
const arg = process.argv.indexOf('--products');
const PRODUCTS = arg > 0 ? Number(process.argv[arg + 1]) : 1_000_000;

const log = (s: string) => process.stdout.write(`${s}\n`);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: databaseUrl('postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

const OLD_ORDER = `WITH r AS (
    UPDATE inventory i SET available_quantity = i.available_quantity - 1, reserved_quantity = i.reserved_quantity + 1
    FROM products p
    WHERE i.product_id = $1 AND p.id = $1 AND p.deleted_at IS NULL AND i.available_quantity >= 1
    RETURNING i.product_id, p.base_price
  ), o AS (
    INSERT INTO orders (id, guest_session_id, status, total_amount, currency)
    SELECT $2, 'bench', 'pending', r.base_price, 'BRL' FROM r RETURNING id
  ), i AS (
    INSERT INTO order_items (order_id, product_id, quantity, unit_price)
    SELECT $2, r.product_id, 1, r.base_price FROM r RETURNING id
  )
  SELECT id FROM o`;

async function main(): Promise<void> {
  // NAME is a constant, never input.
  await admin(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  await admin(`CREATE DATABASE ${NAME}`);
  const url = databaseUrl(NAME);
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  try {
    const before = migrationFiles().filter((f) => f < FIRST_VARIANTS_MIGRATION).length;
    const variants = migrationFiles().filter((f) => f >= FIRST_VARIANTS_MIGRATION).length;
    await migrate({ databaseUrl: url, direction: 'up', count: before });
    let t = performance.now();
    await pool.query(
      `INSERT INTO products (name, base_price, created_at)
       SELECT 'Produto ' || n, 990 + (n % 500) * 100, NOW() - make_interval(secs => n) FROM generate_series(1, $1) AS n`,
      [PRODUCTS],
    );
    await pool.query('INSERT INTO inventory (product_id, available_quantity) SELECT id, 1000 FROM products');
    await pool.query('VACUUM ANALYZE');
    log(`previous release: ${PRODUCTS} products with stock in ${Math.round(performance.now() - t)} ms`);
    const { rows } = await pool.query<{ id: string }>(
      'SELECT id FROM products ORDER BY random() LIMIT 10000',
    );
    const ids = rows.map((r) => r.id);

    // The previous release keeps placing orders during the whole migration.
    let running = true;
    let placed = 0;
    let failed = 0;
    let worst = 0;
    const errors = new Set<string>();
    const buyer = async () => {
      while (running) {
        const s = performance.now();
        try {
          const r = await pool.query(OLD_ORDER, [ids[Math.floor(Math.random() * ids.length)], randomUUID()]);
          placed += r.rowCount ?? 0;
        } catch (error) {
          failed++;
          errors.add(error instanceof Error ? error.message : String(error));
        }
        worst = Math.max(worst, performance.now() - s);
      }
    };
    const buyers = Array.from({ length: 4 }, buyer);
    const phase = async (name: string, work: () => Promise<unknown>) => {
      const [p0, f0] = [placed, failed];
      worst = 0;
      const s = performance.now();
      await work();
      const ms = Math.round(performance.now() - s);
      log(
        `${name}: ${ms} ms; meanwhile ${placed - p0} orders placed (${Math.round(((placed - p0) * 1000) / ms)}/s), ${failed - f0} failed, slowest ${Math.round(worst)} ms`,
      );
    };
    t = performance.now();
    await phase('expand (tables, columns, 5 concurrent indexes)', () =>
      migrate({ databaseUrl: url, direction: 'up', count: variants - 1 }),
    );
    await phase('backfill (5,000 products per transaction)', () =>
      backfillVariants(pool, { batchSize: 5000 }),
    );
    await phase('key switch (catch-up, NOT NULL, primary key, foreign key)', () =>
      migrate({ databaseUrl: url, direction: 'up' }),
    );
    running = false;
    await Promise.all(buyers);
    log(
      `whole migration: ${Math.round(performance.now() - t)} ms, ${placed} orders placed, ${failed} failed`,
    );
    for (const e of errors) log(`  an order failed: ${e}`);
  } finally {
    await pool.end();
    await admin(`DROP DATABASE IF EXISTS ${NAME} WITH (FORCE)`);
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `variants migration bench failed: ${err instanceof Error ? err.stack : String(err)}\n`,
  );
  process.exitCode = 1;
});
