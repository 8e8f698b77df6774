/**
 * Bulk: `shopflow seed` of a million products (search-indexed: searchable when it ends), always,
 * since that is the target; then a full reindex. Each in a database of our own. Also prepares the
 * workloads' catalog.
 */
import { spawnSync } from 'node:child_process';
import { DB, dbUrl, dropDatabase, freshCatalog, SEED_DB, type Seeded } from '../lib/database.ts';
import type { Row } from '../lib/load.ts';
import { full, log, PRODUCTS, ROOT, want } from '../lib/options.ts';

export async function bulk(): Promise<Row[]> {
  if (!want('bulk')) {
    await freshCatalog(DB, PRODUCTS);
    return [];
  }
  log('seeding 1,000,000 products (about 2 minutes)...');
  let seed: Seeded;
  if (full) {
    seed = await freshCatalog(DB, 1_000_000);
  } else {
    seed = await freshCatalog(SEED_DB, 1_000_000);
    await dropDatabase(SEED_DB);
    log(`seeding the ${PRODUCTS.toLocaleString('en-US')}-product catalog of the workloads...`);
    await freshCatalog(DB, PRODUCTS);
  }
  log('reindexing...');
  const t = performance.now();
  spawnSync(process.execPath, ['bin/shopflow.js', 'search', 'reindex'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, LOG_LEVEL: 'warn' },
    stdio: 'ignore',
  });
  const n = (x: number) => x.toLocaleString('en-US');
  return [
    {
      workload: 'bulk: seed 1,000,000 products',
      metric: 'products/s',
      value: Math.round(1_000_000 / seed.seconds),
      target: '< 60 s (>= 16,667/s)',
      met: seed.seconds < 60,
      note:
        `${seed.seconds.toFixed(0)} s, search index built; ${n(seed.products)} products, ${n(seed.variants)} variants ` +
        `(${n(seed.withVariants)} products with options); seed process peak RSS ${seed.peakRssMiB ?? '?'} MiB`,
    },
    {
      workload: 'bulk: search reindex',
      metric: 'products/s',
      value: Math.round(PRODUCTS / ((performance.now() - t) / 1000)),
    },
  ];
}
