/**
 * ShopFlow benchmarks: `npm run bench` (full) or `npm run bench -- --quick`.
 *
 * Every figure is printed next to a baseline measured in the same run, as a ratio, because a
 * shared machine drifts. The server under test and the baselines run in their own processes; the
 * load generator (autocannon) runs here. Uses the machine's PostgreSQL (BENCH_DATABASE_URL's server,
 * default postgres://postgres@127.0.0.1:5432) in a database of its own, `shopflow_bench`, and Redis
 * when reachable. Each workload is a file of bench/workloads/; bench/README.md says what each
 * measures.
 */
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { typeParsers } from '../src/platform/db/pool.ts';
import { UFS } from '../src/modules/customers/brazil.schemas.ts';
import { freePort } from '../test/ports.ts';
import { DB, dbUrl, dropDatabase } from './lib/database.ts';
import type { BenchContext, Row } from './lib/load.ts';
import { log, mode, PRODUCTS, ROOT, SECONDS, SOAK_SECONDS, want, type Group } from './lib/options.ts';
import { redisUrl, rssPeakMiB, startProcess, stop } from './lib/processes.ts';
import { report } from './report.ts';
import { bulk } from './workloads/bulk.ts';
import { reads } from './workloads/reads.ts';
import { orders } from './workloads/orders.ts';
import { checkout } from './workloads/checkout.ts';
import { hot } from './workloads/hot.ts';
import { search } from './workloads/search.ts';
import { stampede } from './workloads/stampede.ts';
import { soak } from './workloads/soak.ts';
import { freight } from './workloads/freight.ts';
import { promotions } from './workloads/promotions.ts';
import { importCatalog } from './workloads/import.ts';
import { FAKE_MELHOR_ENVIO_TOKEN, startFakeMelhorEnvio } from './lib/fake-melhorenvio.ts';
import { BENCH_WEBHOOK_CONCURRENCY, webhooks } from './workloads/webhooks.ts';

/** The workloads in the order they run (orders before checkout: it compares itself with them). */
const WORKLOADS: [Group, string, (ctx: BenchContext) => Promise<Row[]>][] = [
  ['reads', 'product reads...', reads],
  ['orders', 'order placement (pgbench, then ShopFlow)...', orders],
  [
    'checkout',
    'guest checkout (10 shoppers: cart, item, address, freight, checkout with key, pay)...',
    checkout,
  ],
  ['freight', 'freight quotes with a warm cache...', freight],
  ['promotions', 'cart pricing with promotions, and the coupon race (200 checkouts, 10 uses)...', promotions],
  ['hot', 'hot product...', hot],
  ['search', 'search and suggest...', search],
  ['stampede', 'stampede...', stampede],
  ['webhooks', 'outgoing webhooks (10,000 events to 5 local endpoints, then one endpoint down)...', webhooks],
  ['import', 'catalog import (100,000 CSV rows into an empty store, then again)...', () => importCatalog()],
  ['soak', `soak (${SOAK_SECONDS} s of product reads and orders, memory sampled every 10 s)...`, soak],
];

/**
 * Ample stock everywhere, 10,000 product ids and 10,000 variant ids numbered for the workloads
 * (orders are placed per variant: bench_variant_ids), and a clean, analysed database.
 */
async function prepareCatalog(pool: pg.Pool): Promise<{ ids: string[]; variantIds: string[] }> {
  // Ample, and summed over a product's variants (up to a few dozen) still within an int: a
  // product's stock is the sum of its variants' (1e9 each overflowed it: every order of a
  // product with variants failed).
  await pool.query('UPDATE inventory SET available_quantity = 10000000');
  await pool.query('CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM products');
  await pool.query('CREATE UNIQUE INDEX ON bench_ids (n)');
  // One freight zone of the table engine covering every UF (the checkout needs a shipping method).
  await pool.query(
    `INSERT INTO shipping_zones (name, carrier, service, states, brackets, free_above)
     VALUES ('Brasil (bench)', 'Correios', 'PAC', $1, $2, 50000)`,
    [UFS, JSON.stringify([{ maxGrams: 1_000_000, price: 1990, minDays: 3, maxDays: 8 }])],
  );
  await pool.query(
    'CREATE TABLE bench_variant_ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM product_variants',
  );
  await pool.query('CREATE UNIQUE INDEX ON bench_variant_ids (n)');
  // Seeding and the stock update leave dead rows and stale statistics: clean up now, so that
  // autovacuum does not run during (and skew) whichever measurement comes first.
  await pool.query('VACUUM ANALYZE');
  await pool.query('CHECKPOINT');
  const { rows } = await pool.query<{ id: string }>('SELECT id FROM bench_ids WHERE n <= 10000 ORDER BY n');
  const { rows: variants } = await pool.query<{ id: string }>(
    'SELECT id FROM bench_variant_ids WHERE n <= 10000 ORDER BY n',
  );
  return { ids: rows.map((r) => r.id), variantIds: variants.map((r) => r.id) };
}

/** The api and the worker in their own processes, as in production, and the bare-Fastify baseline. */
async function startProcesses(sampleId: string, melhorEnvioUrl: string) {
  const redis = await redisUrl();
  const env = {
    DATABASE_URL: dbUrl,
    LOG_LEVEL: 'warn',
    PORT: String(await freePort()),
    RATE_LIMIT_ENABLED: 'false',
    // Every load comes from one address: the per-address caps on unpaid orders would stop it.
    MAX_PENDING_ORDERS_PER_ADDRESS: '0',
    MAX_PENDING_UNITS_PER_ADDRESS: '0',
    GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: '0',
    // The checkout workload pays with the deterministic test provider (no money moves).
    PAYMENT_PROVIDER: 'test',
    // Freight from the table and from Melhor Envio (a local stand-in: see lib/fake-melhorenvio.ts).
    SHIPPING_PROVIDER: 'table,melhorenvio',
    MELHOR_ENVIO_URL: melhorEnvioUrl,
    MELHOR_ENVIO_TOKEN: FAKE_MELHOR_ENVIO_TOKEN,
    SHIPPING_ORIGIN_CEP: '04538133',
    SHIPPING_QUOTES_PER_MINUTE: '100000',
    // The coupon race applies one code to 200 carts from this one address.
    PROMOTION_CODES_PER_ADDRESS_PER_MINUTE: '100000',
    // As in production: the API in one process, the worker (relay, consumers such as the invoice
    // renderer, jobs) in another, on the same two cores.
    SHOPFLOW_ROLE: 'api',
    // The webhooks workload's receivers listen on 127.0.0.1 over http.
    WEBHOOK_ALLOW_INSECURE_URLS: 'true',
    WEBHOOK_SECRETS_KEY: 'bench-webhook-secrets-key-of-32-characters',
    WEBHOOK_CONCURRENCY: String(BENCH_WEBHOOK_CONCURRENCY),
    ...(redis ? { REDIS_URL: redis } : {}),
  };
  // `--cpu-prof`: the api and the worker write V8 CPU profiles to bench/profiles/ when they stop.
  const prof = process.argv.includes('--cpu-prof')
    ? ['--cpu-prof', '--cpu-prof-dir', path.join(ROOT, 'bench/profiles')]
    : [];
  const server = await startProcess([...prof, 'bin/shopflow.js', 'serve'], env);
  // The webhooks workload reads the worker's heap after a full collection over the inspector, on
  // a local port (lib/heap.ts); the other workloads start it without.
  const inspectPort = want('webhooks') ? await freePort() : undefined;
  const inspect = inspectPort ? [`--inspect=127.0.0.1:${inspectPort}`] : [];
  const worker = {
    ...(await startProcess([...prof, ...inspect, 'bin/shopflow.js', 'worker'], {
      ...env,
      SHOPFLOW_ROLE: 'worker',
      PORT: String(await freePort()),
    })),
    ...(inspectPort ? { inspectPort } : {}),
  };
  // The baseline answers with one of ShopFlow's own product pages: the same bytes on the wire.
  const sample = await (await fetch(`${server.url}/store/products/${sampleId}`)).text();
  const baseline = await startProcess(['--import', 'tsx', 'bench/baseline-server.ts'], {
    PORT: String(await freePort()),
    PRODUCT_JSON: sample,
  });
  log(`server ${server.url} (${redis ? 'Redis cache' : 'in-process cache'}), baseline ${baseline.url}`);
  return { server, worker, baseline };
}

async function main(): Promise<void> {
  const started = Date.now();
  log(`ShopFlow benchmarks (${mode}): ${PRODUCTS} products, ${SECONDS}s per load`);
  log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );
  const rows: Row[] = await bulk();
  const pool = new pg.Pool({ connectionString: dbUrl, max: 4, types: typeParsers });
  const { ids, variantIds } = await prepareCatalog(pool);
  const melhorEnvio = await startFakeMelhorEnvio();
  const { server, worker, baseline } = await startProcesses(ids[0]!, melhorEnvio.url);
  const ctx: BenchContext = { server, worker, baseline, pool, ids, variantIds, keyedRate: NaN };
  try {
    for (const [group, what, run] of WORKLOADS) {
      if (!want(group)) continue;
      log(what);
      rows.push(...(await run(ctx)));
    }
    // Memory: the processes' peak resident set over every load above (Linux VmHWM).
    const api = rssPeakMiB(server.proc.pid);
    const bg = rssPeakMiB(worker.proc.pid);
    rows.push({
      workload: 'memory: RSS peak over the loads',
      metric: 'MiB',
      value: api ?? NaN,
      note: `api ${api ?? '?'} MiB, worker ${bg ?? '?'} MiB`,
    });
  } finally {
    await Promise.all([stop(server.proc), stop(worker.proc), stop(baseline.proc)]);
    await melhorEnvio.close();
    await pool.end();
  }
  await report(rows, started);
  await dropDatabase(DB);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
