/** The benchmark's own databases on the machine's PostgreSQL (BENCH_DATABASE_URL's server). */
import { spawnSync } from 'node:child_process';
import pg from 'pg';
import { ROOT } from './options.ts';

const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
/** The workloads' catalog; the million-product seed of a quick or standard run goes to SEED_DB. */
export const DB = 'shopflow_bench';
export const SEED_DB = 'shopflow_bench_seed';
/** The catalog import's empty store. */
export const IMPORT_DB = 'shopflow_bench_import';
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
// Database names below are the constants DB, SEED_DB and IMPORT_DB, never input.
export const dropDatabase = (name: string) => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
async function recreateDatabase(name: string): Promise<void> {
  await dropDatabase(name);
  await adminQuery(`CREATE DATABASE ${name}`);
}

/** A new database `name`, migrated, with `products` seeded by `shopflow seed`: the seed's seconds. */
export async function freshCatalog(name: string, products: number): Promise<number> {
  await recreateDatabase(name);
  const env = { ...process.env, DATABASE_URL: databaseUrl(name), LOG_LEVEL: 'warn' };
  spawnSync(process.execPath, ['bin/shopflow.js', 'migrate', 'up'], { cwd: ROOT, env, stdio: 'ignore' });
  const t = performance.now();
  const seeded = spawnSync(
    process.execPath,
    ['bin/shopflow.js', 'seed', '--products', String(products), '--seed', '7'],
    { cwd: ROOT, env, encoding: 'utf8' },
  );
  if (seeded.status !== 0) throw new Error(`seed failed: ${seeded.stderr}`);
  return (performance.now() - t) / 1000;
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
