/**
 * `npm run bench:recovery [-- --products N --orders M]`: the disaster-recovery figures of
 * docs/runbooks/disaster-recovery.md, measured again on this machine. A scratch store is seeded
 * (100,000 products and 5,000 delivered orders by default), then the logical-backup path is timed
 * step by step with the real commands: `backup create`, `backup verify` (restore into a scratch
 * database, counts and checksums compared), `backup restore` into a new database, `search reindex`
 * on it. Row counts of the restored database are compared with the source. Its databases
 * (`shopflow_bench_dr`, `shopflow_bench_dr_restored`) and its local backups directory are dropped
 * at the end.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const arg = (name: string, fallback: number) => {
  const i = process.argv.indexOf(name);
  const n = i > 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name} takes a positive whole number`);
  return n;
};
const PRODUCTS = arg('--products', 100_000);
const ORDERS = arg('--orders', 5_000);
const SOURCE = 'shopflow_bench_dr';
const TARGET = 'shopflow_bench_dr_restored';
const urlOf = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};
const dataDir = mkdtempSync(path.join(tmpdir(), 'shopflow-bench-dr-'));
const log = (s: string) => process.stdout.write(`${s}\n`);

async function query<T extends pg.QueryResultRow>(url: string, sql: string, values: unknown[] = []) {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    return (await c.query<T>(sql, values)).rows;
  } finally {
    await c.end();
  }
}
// SOURCE and TARGET are the constants above, never input.
const drop = (name: string) => query(ADMIN_URL, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);

/** Runs a shopflow command against `database`; its wall time in seconds. */
function step(label: string, database: string, args: string[]): number {
  const t = performance.now();
  const r = spawnSync(process.execPath, ['bin/shopflow.js', ...args], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: urlOf(database), SHOPFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    encoding: 'utf8',
  });
  const seconds = (performance.now() - t) / 1000;
  if (r.status !== 0) throw new Error(`${label} failed:\n${r.stdout}${r.stderr}`);
  log(`${label}: ${seconds.toFixed(1)} s  ${r.stdout.trim().split('\n').at(-1) ?? ''}`);
  return seconds;
}

async function counts(database: string): Promise<string> {
  const [row] = await query<{ c: string }>(
    urlOf(database),
    `SELECT concat_ws(' ', (SELECT count(*) FROM products), (SELECT count(*) FROM inventory),
       (SELECT count(*) FROM orders), (SELECT count(*) FROM order_items)) AS c`,
  );
  return row!.c;
}

async function main(): Promise<void> {
  log(`recovery bench: ${PRODUCTS} products, ${ORDERS} orders`);
  await drop(SOURCE);
  await drop(TARGET);
  await query(ADMIN_URL, `CREATE DATABASE ${SOURCE}`);
  try {
    step('migrate', SOURCE, ['migrate', 'up']);
    const seed = step('seed', SOURCE, ['seed', '--products', String(PRODUCTS), '--seed', '7']);
    // Delivered orders of one line each, spread over the catalog (no stock held).
    await query(
      urlOf(SOURCE),
      `WITH p AS (SELECT id, base_price AS price, row_number() OVER (ORDER BY id) AS n FROM products),
            o AS (INSERT INTO orders (status, total_amount, created_at)
                  SELECT 'delivered', 0, now() - g * interval '1 minute' FROM generate_series(1, $1) g
                  RETURNING id),
            numbered AS (SELECT id, row_number() OVER () AS n FROM o)
       INSERT INTO order_items (order_id, product_id, quantity, unit_price)
       SELECT numbered.id, p.id, 1, p.price FROM numbered JOIN p ON p.n = 1 + (numbered.n * 7919) % $2`,
      [ORDERS, PRODUCTS],
    );
    const before = await counts(SOURCE);
    const dump = step('backup create', SOURCE, ['backup', 'create']);
    const verify = step('backup verify', SOURCE, ['backup', 'verify']);
    const [id] = spawnSync(process.execPath, ['bin/shopflow.js', 'backup', 'list'], {
      cwd: ROOT,
      env: { ...process.env, DATABASE_URL: urlOf(SOURCE), SHOPFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
      encoding: 'utf8',
    }).stdout.split(/\s+/);
    const restore = step('backup restore', SOURCE, ['backup', 'restore', '--id', id!, '--target-db', TARGET]);
    const reindex = step('search reindex', TARGET, ['search', 'reindex']);
    const after = await counts(TARGET);
    log(`rows (products inventory orders items): source ${before}, restored ${after}`);
    if (before !== after) throw new Error('the restored database differs from the source');
    log('');
    log(`| step | seconds |`);
    log(`| --- | --- |`);
    log(`| seed (for reference) | ${seed.toFixed(1)} |`);
    log(`| backup create | ${dump.toFixed(1)} |`);
    log(`| backup verify (scratch restore + checks) | ${verify.toFixed(1)} |`);
    log(`| backup restore into a new database | ${restore.toFixed(1)} |`);
    log(`| search reindex | ${reindex.toFixed(1)} |`);
    log(`| RTO of the logical path (restore + reindex) | ${(restore + reindex).toFixed(1)} |`);
  } finally {
    await drop(TARGET);
    await drop(SOURCE);
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
