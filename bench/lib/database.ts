/** The benchmark's own databases on the machine's PostgreSQL (BENCH_DATABASE_URL's server). */
import { spawn, spawnSync } from 'node:child_process';
import pg from 'pg';
import { ROOT } from './options.ts';
import { rssPeakMiB } from './processes.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/**
 * The workloads' catalog; the million-product seed of a quick or standard run goes to SEED_DB,
 * the catalog import's empty store to IMPORT_DB. `BENCH_DB_PREFIX` (default `shopflow_bench`)
 * names them, so that two runs on one machine (two worktrees) do not drop each other's databases.
 */
const PREFIX = process.env.BENCH_DB_PREFIX ?? 'shopflow_bench';
if (!/^[a-z_][a-z0-9_]{0,40}$/.test(PREFIX))
  throw new Error(`BENCH_DB_PREFIX is not a plain name: ${PREFIX}`);
export const DB = PREFIX;
export const SEED_DB = `${PREFIX}_seed`;
export const IMPORT_DB = `${PREFIX}_import`;
export const databaseUrl = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};
export const dbUrl = databaseUrl(DB);

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
// Database names below are DB, SEED_DB and IMPORT_DB (checked to be plain names above), never other input.
export const dropDatabase = (name: string) => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
async function recreateDatabase(name: string): Promise<void> {
  await dropDatabase(name);
  await adminQuery(`CREATE DATABASE ${name}`);
}

/** What a seed took: its time, the seed process's peak resident set, and what it wrote. */
export interface Seeded {
  seconds: number;
  /** VmHWM of the `shopflow seed` process, read every 200 ms until it exits (Linux). */
  peakRssMiB: number | undefined;
  products: number;
  variants: number;
  /** Products sold in several variants (sizes, colours...). */
  withVariants: number;
}

/** A new database `name`, migrated, with `products` seeded by `shopflow seed`. */
export async function freshCatalog(name: string, products: number): Promise<Seeded> {
  await recreateDatabase(name);
  const url = databaseUrl(name);
  const env = { ...process.env, DATABASE_URL: url, LOG_LEVEL: 'warn' };
  spawnSync(process.execPath, ['bin/shopflow.js', 'migrate', 'up'], { cwd: ROOT, env, stdio: 'ignore' });
  const t = performance.now();
  const child = spawn(
    process.execPath,
    ['bin/shopflow.js', 'seed', '--products', String(products), '--seed', '7'],
    {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  let peakRssMiB: number | undefined;
  const sample = setInterval(() => {
    // VmHWM only grows: the last reading before the exit is the peak (to within 200 ms).
    peakRssMiB = rssPeakMiB(child.pid) ?? peakRssMiB;
  }, 200);
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  clearInterval(sample);
  if (code !== 0) throw new Error(`seed failed: ${stderr}`);
  const seconds = (performance.now() - t) / 1000;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ products: number; variants: number; with_variants: number }>(
      `SELECT (SELECT COUNT(*)::int FROM products) AS products,
              (SELECT COUNT(*)::int FROM product_variants) AS variants,
              (SELECT COUNT(DISTINCT product_id)::int FROM product_options) AS with_variants`,
    );
    const r = rows[0]!;
    return { seconds, peakRssMiB, products: r.products, variants: r.variants, withVariants: r.with_variants };
  } finally {
    await client.end();
  }
}

/** A new, migrated, empty database `name`. */
export async function emptyDatabase(name: string): Promise<void> {
  await recreateDatabase(name);
  const env = { ...process.env, DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'warn' };
  const migrated = spawnSync(process.execPath, ['bin/shopflow.js', 'migrate', 'up'], {
    cwd: ROOT,
    env,
    encoding: 'utf8',
  });
  if (migrated.status !== 0) throw new Error(`migrate failed: ${migrated.stderr}`);
}
