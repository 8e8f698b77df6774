/**
 * ShopFlow benchmarks: `npm run bench` (full) or `npm run bench -- --quick`.
 *
 * Every figure is printed next to a baseline measured in the same run, as a ratio, because a
 * shared machine drifts. The server under test and the baselines run in their own processes; the
 * load generator (autocannon) runs here. Uses the machine's PostgreSQL (BENCH_DATABASE_URL's server,
 * default postgres://postgres@127.0.0.1:5432) in a database of its own, `shopflow_bench`, and Redis
 * when reachable. See bench/README.md for what each workload measures.
 */
import { randomUUID } from 'node:crypto';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import * as prettier from 'prettier';
import { typeParsers } from '../src/platform/db/pool.ts';
import { PostgresSearchEngine } from '../src/platform/search/postgres.search-engine.ts';
import { freePort } from '../test/ports.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const quick = process.argv.includes('--quick');
const full = process.argv.includes('--full');
const SECONDS = quick ? 5 : 15;
const PRODUCTS = full ? 1_000_000 : 100_000;
// `--only reads,orders,checkout,search` runs those groups alone on the workloads' catalog (no
// million-product seed, nothing written to bench/results or the README): for iterating on one
// path. Checkout's ratio needs orders.
const onlyArg = process.argv.find((a, i) => process.argv[i - 1] === '--only' || a.startsWith('--only='));
const only = onlyArg ? new Set(onlyArg.replace(/^--only=/, '').split(',')) : undefined;
const want = (group: 'reads' | 'orders' | 'checkout' | 'search' | 'bulk' | 'hot' | 'stampede') =>
  !only || only.has(group);
// The soak runs in --full (or alone with `--only soak`): 5 minutes unless BENCH_SOAK_SECONDS says.
const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
const soak = only ? only.has('soak') : full;
const ADMIN_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DB = 'shopflow_bench';
const SEED_DB = 'shopflow_bench_seed';
const databaseUrl = (name: string) => {
  const u = new URL(ADMIN_URL);
  u.pathname = `/${name}`;
  return u.toString();
};

async function adminQuery(sql: string): Promise<void> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(sql);
  } finally {
    await admin.end();
  }
}
// Database names below are the constants DB and SEED_DB, never input.
const dropDatabase = (name: string) => adminQuery(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
async function recreateDatabase(name: string): Promise<void> {
  await dropDatabase(name);
  await adminQuery(`CREATE DATABASE ${name}`);
}

/** A new database `name`, migrated, with `products` seeded by `shopflow seed`: the seed's seconds. */
async function freshCatalog(name: string, products: number): Promise<number> {
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

const dbUrl = databaseUrl(DB);

interface Row {
  workload: string;
  metric: string;
  value: number;
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  p50?: number;
  p95?: number;
  p99?: number;
  note?: string;
  /** Whether the target was met in this run (rows with a target). */
  met?: boolean;
}
const rows: Row[] = [];
const log = (s: string) => process.stdout.write(`${s}\n`);

async function redisUrl(): Promise<string | undefined> {
  const url = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 6379), u.hostname, () => {
      s.destroy();
      resolve(url);
    });
    s.on('error', () => resolve(undefined));
  });
}

/** Starts a process and resolves with its base URL once it prints one. */
function startProcess(
  args: string[],
  env: Record<string, string>,
): Promise<{ url: string; proc: ChildProcess }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, args, {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${args.join(' ')} did not start: ${out}`)), 120_000);
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /(http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1]!, proc });
      }
    });
    proc.on('exit', (code) => reject(new Error(`${args.join(' ')} exited with ${code}: ${out}`)));
  });
}

function stop(proc: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (proc.exitCode !== null) return resolve();
    proc.once('exit', () => resolve());
    proc.kill('SIGTERM');
  });
}

async function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ duration: SECONDS, ...opts });
}

/** CPU time (user + system) a process has used, in ms; undefined where /proc is not available. */
function cpuMs(pid: number | undefined): number | undefined {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
const CLOCK_TICKS = 100; // USER_HZ on Linux

/**
 * CPU time (ms) used so far by every live process of this command name (e.g. `postgres`: the
 * server and its backends); undefined where /proc is not available. Backends that exited between
 * two readings are not counted, so pools that keep their connections are measured right.
 */
function cpuMsOf(command: string): number | undefined {
  try {
    let total = 0;
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === command) total += cpuMs(Number(pid)) ?? 0;
      } catch {
        // gone meanwhile
      }
    }
    return total;
  } catch {
    return undefined;
  }
}

/** A process's resident set in MiB from /proc/<pid>/status (Linux): VmHWM (peak) or VmRSS (now). */
function rssMiB(pid: number | undefined, field: 'VmHWM' | 'VmRSS'): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}
const rssPeakMiB = (pid: number | undefined) => rssMiB(pid, 'VmHWM');
const rssNowMiB = (pid: number | undefined) => rssMiB(pid, 'VmRSS');

/**
 * Shoppers going through the whole storefront path, each one order after another, for `seconds`:
 * create a cart, add an item, check out with an Idempotency-Key, pay. Orders completed (paid),
 * failures, and the latency of a whole order.
 */
async function checkoutFlow(base: string, ids: string[], shoppers: number, seconds: number) {
  const latencies: number[] = [];
  let orders = 0;
  let failed = 0;
  const post = async (url: string, body: unknown, headers: Record<string, string>) => {
    const res = await fetch(`${base}${url}`, {
      method: 'POST',
      headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  };
  const shopper = async (deadline: number) => {
    while (performance.now() < deadline) {
      const t0 = performance.now();
      try {
        const cart = await post('/store/carts', undefined, {});
        const auth = { authorization: `Bearer ${cart.body.sessionToken}` };
        const productId = ids[Math.floor(Math.random() * ids.length)];
        await post(`/store/carts/${cart.body.id}/items`, { productId, quantity: 1 }, auth);
        const order = await post(`/store/carts/${cart.body.id}/checkout`, undefined, {
          ...auth,
          'idempotency-key': randomUUID(),
        });
        const paid = await post(
          `/store/orders/${order.body.id}/payments`,
          { method: 'card', paymentMethod: 'tok_visa' },
          auth,
        );
        if (paid.status === 201) {
          orders++;
          latencies.push(performance.now() - t0);
        } else failed++;
      } catch {
        failed++;
      }
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: shoppers }, () => shopper(start + seconds * 1000)));
  const elapsed = (performance.now() - start) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) =>
    Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? NaN);
  return { orders, failed, seconds: elapsed, p50: at(0.5), p95: at(0.95), p99: at(0.99) };
}

/** Status codes other than 2xx, e.g. "409 x12" (a benchmark never hides failures). */
const statusNote = (r: autocannon.Result) =>
  r.non2xx === 0
    ? 'all 2xx'
    : Object.entries(r.statusCodeStats as Record<string, { count: number }>)
        .filter(([code]) => !code.startsWith('2'))
        .map(([code, v]) => `${code} x${v.count}`)
        .join(', ');
const pct = (r: autocannon.Result) => ({ p50: r.latency.p50, p95: r.latency.p97_5, p99: r.latency.p99 });

async function main(): Promise<void> {
  const started = Date.now();
  log(
    `ShopFlow benchmarks (${quick ? 'quick' : full ? 'full' : 'standard'}): ${PRODUCTS} products, ${SECONDS}s per load`,
  );
  log(
    `machine: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, node ${process.version}`,
  );

  // 5. Bulk: `shopflow seed` of a million products (search-indexed: searchable when it ends),
  // always, since that is the target; then a full reindex. Each in a database of our own.
  const env = { DATABASE_URL: dbUrl, LOG_LEVEL: 'warn' };
  let seedSecs: number;
  if (want('bulk')) log('seeding 1,000,000 products (about 2 minutes)...');
  if (!want('bulk')) {
    seedSecs = NaN;
    await freshCatalog(DB, PRODUCTS);
  } else if (full) {
    seedSecs = await freshCatalog(DB, 1_000_000);
  } else {
    seedSecs = await freshCatalog(SEED_DB, 1_000_000);
    await dropDatabase(SEED_DB);
    log(`seeding the ${PRODUCTS.toLocaleString('en-US')}-product catalog of the workloads...`);
    await freshCatalog(DB, PRODUCTS);
  }
  if (want('bulk')) {
    log('reindexing...');
    rows.push({
      workload: 'bulk: seed 1,000,000 products',
      metric: 'products/s',
      value: Math.round(1_000_000 / seedSecs),
      target: '< 60 s (>= 16,667/s)',
      met: seedSecs < 60,
      note: `${seedSecs.toFixed(0)} s, search index built`,
    });
    const t = performance.now();
    spawnSync(process.execPath, ['bin/shopflow.js', 'search', 'reindex'], {
      cwd: ROOT,
      env: { ...process.env, ...env },
      stdio: 'ignore',
    });
    rows.push({
      workload: 'bulk: search reindex',
      metric: 'products/s',
      value: Math.round(PRODUCTS / ((performance.now() - t) / 1000)),
    });
  }

  const pool = new pg.Pool({ connectionString: dbUrl, max: 4, types: typeParsers });
  await pool.query('UPDATE inventory SET available_quantity = 1000000000');
  await pool.query('CREATE TABLE bench_ids AS SELECT row_number() OVER (ORDER BY id) AS n, id FROM products');
  await pool.query('CREATE UNIQUE INDEX ON bench_ids (n)');
  // Seeding and the stock update leave dead rows and stale statistics: clean up now, so that
  // autovacuum does not run during (and skew) whichever measurement comes first.
  await pool.query('VACUUM ANALYZE');
  await pool.query('CHECKPOINT');
  const { rows: idRows } = await pool.query<{ id: string }>(
    'SELECT id FROM bench_ids WHERE n <= 10000 ORDER BY n',
  );
  const ids = idRows.map((r) => r.id);

  const redis = await redisUrl();
  const serverEnv = {
    ...env,
    PORT: String(await freePort()),
    RATE_LIMIT_ENABLED: 'false',
    // Every load comes from one address: the per-address caps on unpaid orders would stop it.
    MAX_PENDING_ORDERS_PER_ADDRESS: '0',
    MAX_PENDING_UNITS_PER_ADDRESS: '0',
    GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: '0',
    // The checkout workload pays with the deterministic test provider (no money moves).
    PAYMENT_PROVIDER: 'test',
    // As in production: the API in one process, the worker (relay, consumers such as the invoice
    // renderer, jobs) in another, on the same two cores.
    SHOPFLOW_ROLE: 'api',
    ...(redis ? { REDIS_URL: redis } : {}),
  };
  // `--cpu-prof`: the api and the worker write V8 CPU profiles to bench/profiles/ when they stop.
  const prof = process.argv.includes('--cpu-prof')
    ? ['--cpu-prof', '--cpu-prof-dir', path.join(ROOT, 'bench/profiles')]
    : [];
  const server = await startProcess([...prof, 'bin/shopflow.js', 'serve'], serverEnv);
  const worker = await startProcess([...prof, 'bin/shopflow.js', 'worker'], {
    ...serverEnv,
    SHOPFLOW_ROLE: 'worker',
    PORT: String(await freePort()),
  });
  // The baseline answers with one of ShopFlow's own product pages: the same bytes on the wire.
  const sample = await (await fetch(`${server.url}/store/products/${ids[0]}`)).text();
  const baseline = await startProcess(['--import', 'tsx', 'bench/baseline-server.ts'], {
    PORT: String(await freePort()),
    PRODUCT_JSON: sample,
  });
  log(`server ${server.url} (${redis ? 'Redis cache' : 'in-process cache'}), baseline ${baseline.url}`);

  let keyedRate = NaN;
  try {
    if (want('reads')) {
      log('product reads...');
      // 1. Product read, cache hit, over 10,000 ids: warm every id first.
      for (let i = 0; i < ids.length; i += 200)
        await Promise.all(ids.slice(i, i + 200).map((id) => fetch(`${server.url}/store/products/${id}`)));
      // Both runs send the same paths, so the load generator does the same work for each.
      const productPaths = (): autocannon.Request[] => {
        let k = 0;
        return [{ setupRequest: (req) => ({ ...req, path: `/store/products/${ids[k++ % ids.length]}` }) }];
      };
      // Also the server's CPU time per request (from /proc, on Linux): steadier than req/s when the
      // load generator shares the cores.
      const cpuPerRequest = async (proc: ChildProcess, run: () => Promise<autocannon.Result>) => {
        const before = cpuMs(proc.pid);
        const r = await run();
        const after = cpuMs(proc.pid);
        const us =
          before === undefined || after === undefined
            ? undefined
            : ((after - before) * 1000) / r.requests.total;
        return { r, us };
      };
      const { r: reads, us: readsUs } = await cpuPerRequest(server.proc, () =>
        load({ url: server.url, connections: 50, requests: productPaths() }),
      );
      const { r: bare, us: bareUs } = await cpuPerRequest(baseline.proc, () =>
        load({ url: baseline.url, connections: 50, requests: productPaths() }),
      );
      rows.push({
        workload: 'product read (cache hit)',
        metric: 'req/s',
        value: reads.requests.average,
        baseline: { name: 'bare Fastify', value: bare.requests.average },
        ratio: reads.requests.average / bare.requests.average,
        target: '>= 0.85, CPU <= 1.2x',
        met:
          reads.requests.average / bare.requests.average >= 0.85 &&
          readsUs !== undefined &&
          bareUs !== undefined &&
          readsUs <= 1.2 * bareUs,
        ...pct(reads),
        ...(readsUs !== undefined && bareUs !== undefined
          ? {
              note: `server CPU per request: ${readsUs.toFixed(0)} µs (bare Fastify ${bareUs.toFixed(0)} µs: ${(readsUs / bareUs).toFixed(2)}x)`,
            }
          : {}),
      });
    }
    if (want('orders')) {
      log('order placement (pgbench, then ShopFlow)...');
      // 2. Order placement on random products with ample stock, 20 connections; the baseline first.
      const bench = spawnSync(
        'pgbench',
        [
          '-n',
          '-c',
          '20',
          '-j',
          '2',
          '-T',
          String(SECONDS),
          '-D',
          `nproducts=${ids.length}`,
          '-f',
          path.join(ROOT, 'bench/order.pgbench.sql'),
          dbUrl,
        ],
        { encoding: 'utf8' },
      );
      // pgbench's events are not ShopFlow's to relay: drop them before ShopFlow's run.
      await pool.query("DELETE FROM outbox WHERE payload ? 'bench' AND published_at IS NULL");
      const orderLoad = (duration: number, idempotent = false) =>
        load({
          url: server.url,
          connections: 20,
          duration,
          requests: [
            {
              method: 'POST',
              setupRequest: (req) => ({
                ...req,
                path: '/store/orders',
                headers: {
                  'content-type': 'application/json',
                  // A guest without a session must send an unguessable key (a UUID).
                  ...(idempotent ? { 'idempotency-key': randomUUID() } : {}),
                },
                body: JSON.stringify({
                  items: [{ productId: ids[Math.floor(Math.random() * ids.length)], quantity: 1 }],
                }),
              }),
            },
          ],
        });
      // One unmeasured second first: the JIT, the pool and the prepared statements warm up (pgbench
      // is compiled C with nothing to warm).
      await orderLoad(1);
      const order = await orderLoad(SECONDS);
      const tps = Number(/tps = ([\d.]+)/.exec(bench.stdout)?.[1] ?? NaN);
      rows.push({
        workload: 'order placement',
        metric: 'orders/s',
        value: order.requests.average,
        baseline: { name: 'pgbench, same SQL', value: tps },
        ratio: order.requests.average / tps,
        target: '>= 0.9',
        met: order.requests.average / tps >= 0.9,
        ...pct(order),
        note: statusNote(order),
      });
      // The same with an Idempotency-Key on each: the key is claimed by the order's statement and
      // the answer stored by a second one.
      const keyed = await orderLoad(SECONDS, true);
      keyedRate = keyed.requests.average;
      rows.push({
        workload: 'order placement with Idempotency-Key',
        metric: 'orders/s',
        value: keyed.requests.average,
        baseline: { name: 'pgbench, same SQL as above', value: tps },
        ratio: keyed.requests.average / tps,
        target: '>= 0.7',
        met: keyed.requests.average / tps >= 0.7,
        ...pct(keyed),
        note: statusNote(keyed),
      });
    }
    if (want('checkout')) {
      log('guest checkout (10 shoppers: cart, item, checkout with key, pay)...');
      // 2b. The whole path of a real storefront, per order: create a cart (a new guest session), add
      // an item, check out with an Idempotency-Key, pay with the test provider; the worker renders
      // the invoice meanwhile. Ten shoppers, each one order after another.
      const serverCpu = cpuMs(server.proc.pid);
      const workerCpu = cpuMs(worker.proc.pid);
      const pgCpu = cpuMsOf('postgres');
      const redisCpu = cpuMsOf('redis-server');
      const flow = await checkoutFlow(server.url, ids, 10, SECONDS);
      const cpuPerOrder = (proc: ChildProcess, before: number | undefined) => {
        const after = cpuMs(proc.pid);
        return before === undefined || after === undefined ? undefined : (after - before) / flow.orders;
      };
      const apiMs = cpuPerOrder(server.proc, serverCpu);
      const workerMs = cpuPerOrder(worker.proc, workerCpu);
      const perOrder = (command: string, before: number | undefined) => {
        const after = cpuMsOf(command);
        return before === undefined || after === undefined ? undefined : (after - before) / flow.orders;
      };
      const pgMs = perOrder('postgres', pgCpu);
      const redisMs = perOrder('redis-server', redisCpu);
      const checkoutRate = flow.orders / flow.seconds;
      rows.push({
        workload: 'full guest checkout, 10 shoppers',
        metric: 'orders/s',
        value: checkoutRate,
        baseline: { name: 'keyed order placement above', value: keyedRate },
        ratio: checkoutRate / keyedRate,
        target: '>= 300 orders/s, >= 0.3',
        met: checkoutRate >= 300 && checkoutRate / keyedRate >= 0.3,
        p50: flow.p50,
        p95: flow.p95,
        p99: flow.p99,
        note: `${flow.failed} failed; CPU per order: api ${apiMs?.toFixed(2) ?? '?'} ms, worker ${workerMs?.toFixed(2) ?? '?'} ms (4 calls and the invoice), PostgreSQL ${pgMs?.toFixed(2) ?? '?'} ms, Redis ${redisMs?.toFixed(2) ?? '?'} ms`,
      });
    }
    if (want('hot')) {
      log('hot product...');
      // 3. Hot product: every buyer on one product with 500 units.
      // A product outside the random pool above, and a recount of this run's orders only.
      const { rows: hotRows } = await pool.query<{ id: string; now: string }>(
        'SELECT id, NOW()::text AS now FROM bench_ids WHERE n = $1',
        [ids.length + 1],
      );
      const hot = hotRows[0]!.id;
      const hotStart = hotRows[0]!.now;
      await pool.query(
        'UPDATE inventory SET available_quantity = 500, reserved_quantity = 0 WHERE product_id = $1',
        [hot],
      );
      const hotRun = await load({
        url: `${server.url}/store/orders`,
        connections: 50,
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ items: [{ productId: hot, quantity: 1 }] }),
      });
      const { rows: inv } = await pool.query<{ available_quantity: number; reserved_quantity: number }>(
        'SELECT available_quantity, reserved_quantity FROM inventory WHERE product_id = $1',
        [hot],
      );
      const { rows: sold } = await pool.query<{ n: number }>(
        'SELECT COALESCE(SUM(quantity), 0)::int AS n FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.product_id = $1 AND o.created_at >= $2::timestamptz',
        [hot, hotStart],
      );
      const oversold = Math.max(0, sold[0]!.n - 500);
      rows.push({
        workload: 'hot product (500 units)',
        metric: 'orders/s',
        value: hotRun.requests.average,
        ...pct(hotRun),
        target: 'oversold 0',
        met: oversold === 0,
        note: `sold ${sold[0]!.n}, available ${inv[0]!.available_quantity}, reserved ${inv[0]!.reserved_quantity}, oversold ${oversold}`,
      });
    }
    if (want('search')) {
      log('search and suggest...');
      // 4. Search and suggest. The mix: 24 terms (some misspelt, some accented), every third query
      // filtered by a top category and a price band, pages 1 and 2: 96 distinct queries, so the
      // results cache is warm after the first round, as it is in a store where people search for
      // the same things. Then the same engine with every query new (cache misses only), and the
      // engine's SQL run directly as the baseline.
      const { rows: cats } = await pool.query<{ id: string }>(
        'SELECT id FROM categories WHERE parent_id IS NULL ORDER BY id',
      );
      const terms = [
        'camiseta',
        'camisetta azul',
        'tenis corrida',
        'tênis',
        'cafe especial',
        'café torrado',
        'notebok',
        'notebook gamer',
        'panela inox',
        'panela de pressao',
        'fone bluetooth',
        'fone de ouvido',
        'chocolate amargo',
        'chocolat',
        'mochila',
        'mochila escolar',
        'livro romance',
        'livro infantil',
        'cadeira escritorio',
        'cadeira gamer',
        'vestido',
        'vestdo longo',
        'sabonete',
        'smartphone',
      ];
      const searchPath = (i: number) => {
        const q = terms[i % terms.length]!;
        const filter =
          i % 3 === 0 ? `&categoryId=${cats[i % cats.length]!.id}&minPrice=2000&maxPrice=30000` : '';
        const page = Math.floor(i / terms.length) % 2 === 0 ? '' : '&page=2';
        return `/store/search?q=${encodeURIComponent(q)}${filter}${page}`;
      };
      let s = 0;
      const searchRun = await load({
        url: server.url,
        connections: 10,
        requests: [{ setupRequest: (req) => ({ ...req, path: searchPath(s++ % 96) }) }],
      });
      let u = 0;
      const newQueries = (): autocannon.Request[] => [
        {
          setupRequest: (req) => {
            // A minimum price of a few centavos: a new query every time that finds what the term finds.
            const i = u++;
            const q = encodeURIComponent(terms[i % terms.length]!);
            return { ...req, path: `/store/search?q=${q}&minPrice=${Math.floor(i / terms.length)}` };
          },
        },
      ];
      const searchMisses = await load({ url: server.url, connections: 10, requests: newQueries() });
      // On the million-product catalog (--full): one shopper at a time, what one uncached search costs.
      const alone = full
        ? await load({ url: server.url, connections: 1, requests: newQueries() })
        : undefined;
      // Suggestions: prefixes of 3 to 6 letters of every word of the mix.
      const prefixes = [
        ...new Set(terms.flatMap((t) => t.split(' ').flatMap((w) => [3, 4, 5, 6].map((n) => w.slice(0, n))))),
      ];
      let g = 0;
      const suggestRun = await load({
        url: server.url,
        connections: 10,
        requests: [
          {
            setupRequest: (req) => ({
              ...req,
              path: `/store/search/suggest?q=${encodeURIComponent(prefixes[g++ % prefixes.length]!)}`,
            }),
          },
        ],
      });
      const engine = new PostgresSearchEngine({ pool });
      const timed = async (op: (i: number) => Promise<unknown>) => {
        const ms: number[] = [];
        for (let i = 0; i < 200; i++) {
          const t0 = performance.now();
          await op(i);
          ms.push(performance.now() - t0);
        }
        return ms.sort((a, b) => a - b)[Math.floor(ms.length * 0.95)]!;
      };
      const directSearch = await timed((i) =>
        engine.search({ q: terms[i % terms.length]!, page: 1, size: 20 }),
      );
      const directSuggest = await timed((i) => engine.suggest(prefixes[i % prefixes.length]!, 5));
      rows.push({
        workload: `search (${PRODUCTS.toLocaleString('en-US')} products, 96-query mix)`,
        metric: 'req/s',
        value: searchRun.requests.average,
        baseline: { name: 'engine SQL p95 ms, direct, one at a time', value: directSearch },
        ...pct(searchRun),
        target: 'p95 < 20 ms',
        met: searchRun.latency.p97_5 < 20,
        note: statusNote(searchRun),
      });
      rows.push({
        workload: 'search, every query new (cache misses), 10 connections',
        metric: 'req/s',
        value: searchMisses.requests.average,
        baseline: { name: 'engine SQL p95 ms, direct, one at a time', value: directSearch },
        ...pct(searchMisses),
        ...(full ? {} : { target: 'p95 < 20 ms', met: searchMisses.latency.p97_5 < 20 }),
        note: statusNote(searchMisses),
      });
      if (alone) {
        rows.push({
          workload: 'search, every query new, 1,000,000 products, one at a time',
          metric: 'req/s',
          value: alone.requests.average,
          ...pct(alone),
          target: 'p95 < 50 ms',
          met: alone.latency.p97_5 < 50,
          note: statusNote(alone),
        });
      }
      rows.push({
        workload: `suggest (${prefixes.length} prefixes)`,
        metric: 'req/s',
        value: suggestRun.requests.average,
        baseline: { name: 'engine SQL p95 ms, direct, one at a time', value: directSuggest },
        ...pct(suggestRun),
        target: 'p95 < 5 ms',
        met: suggestRun.latency.p97_5 < 5,
        note: statusNote(suggestRun),
      });
    }
    if (want('stampede')) {
      log('stampede...');
      // 6. Stampede: 1,000 concurrent reads of one cold product; how many database loads.
      // A product created for this (never read, so never cached).
      const { rows: fresh } = await pool.query<{ id: string }>(
        "INSERT INTO products (name, base_price) VALUES ('Produto Frio', 990) RETURNING id",
      );
      const stampedeId = fresh[0]!.id;
      const misses = async () =>
        Number(
          /shopflow_cache_requests_total\{cache="catalog",result="miss"\} (\d+)/.exec(
            await (await fetch(`${server.url}/metrics`)).text(),
          )?.[1] ?? 0,
        );
      const before = await misses();
      await Promise.all(
        Array.from({ length: 1000 }, () =>
          fetch(`${server.url}/store/products/${stampedeId}`).then((r) => r.arrayBuffer()),
        ),
      );
      const stampedeLoads = (await misses()) - before;
      rows.push({
        workload: 'stampede (1,000 cold reads)',
        metric: 'database loads',
        value: stampedeLoads,
        target: 'exactly 1',
        met: stampedeLoads === 1,
      });
    }
    if (soak) {
      log(`soak (${SOAK_SECONDS} s of product reads and orders, memory sampled every 10 s)...`);
      // 8. Soak: reads and orders alternating on 20 connections; the api's and the worker's
      // resident set sampled as it goes. Memory is flat when the last minute is where the first was.
      const samples: { api: number; worker: number }[] = [];
      const sample = () =>
        samples.push({ api: rssNowMiB(server.proc.pid) ?? NaN, worker: rssNowMiB(worker.proc.pid) ?? NaN });
      const timer = setInterval(sample, 10_000);
      let k = 0;
      const run = await load({
        url: server.url,
        connections: 20,
        duration: SOAK_SECONDS,
        requests: [
          { setupRequest: (req) => ({ ...req, path: `/store/products/${ids[k++ % ids.length]}` }) },
          {
            method: 'POST',
            setupRequest: (req) => ({
              ...req,
              path: '/store/orders',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({
                items: [{ productId: ids[Math.floor(Math.random() * ids.length)], quantity: 1 }],
              }),
            }),
          },
        ],
      });
      clearInterval(timer);
      sample();
      const window = Math.max(1, Math.min(6, Math.floor(samples.length / 3)));
      const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
      const first = mean(samples.slice(0, window).map((x) => x.api));
      const last = mean(samples.slice(-window).map((x) => x.api));
      const firstW = mean(samples.slice(0, window).map((x) => x.worker));
      const lastW = mean(samples.slice(-window).map((x) => x.worker));
      rows.push({
        workload: `soak: ${SOAK_SECONDS} s of reads and orders, 20 connections`,
        metric: 'MiB (api RSS, end)',
        value: last,
        baseline: { name: 'api RSS at the start', value: first },
        ratio: last / first,
        target: 'flat (<= 1.1)',
        met: last / first <= 1.1,
        ...pct(run),
        note: `${run.requests.total.toLocaleString('en-US')} requests, ${statusNote(run)}; worker ${firstW.toFixed(0)} -> ${lastW.toFixed(0)} MiB; samples (api/worker, every 10 s) ${samples.map((x) => `${x.api.toFixed(0)}/${x.worker.toFixed(0)}`).join(' ')}`,
      });
    }
    // 7. Memory: the processes' peak resident set over every load above (Linux VmHWM).
    const api = rssPeakMiB(server.proc.pid);
    const bg = rssPeakMiB(worker.proc.pid);
    rows.push({
      workload: 'memory: RSS peak over the loads',
      metric: 'MiB',
      value: api ?? NaN,
      note: `api ${api ?? '?'} MiB, worker ${bg ?? '?'} MiB`,
    });
  } finally {
    await stop(server.proc);
    await stop(worker.proc);
    await stop(baseline.proc);
    await pool.end();
  }

  const fmt = (n: number | undefined, d = 0) =>
    n === undefined || Number.isNaN(n)
      ? ''
      : n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });
  const table = [
    '| workload | result | baseline | ratio | target | met | p50 / p95 / p99 ms | note |',
    '|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.workload} | ${fmt(r.value)} ${r.metric} | ${r.baseline ? `${fmt(r.baseline.value, 1)} (${r.baseline.name})` : ''} | ${r.ratio === undefined ? '' : fmt(r.ratio, 2)} | ${r.target ?? ''} | ${r.met === undefined ? '' : r.met ? 'yes' : 'no'} | ${r.p50 === undefined ? '' : `${r.p50} / ${r.p95} / ${r.p99}`} | ${r.note ?? ''} |`,
    ),
  ].join('\n');
  log('\n' + table);
  // A partial run (--only) prints its table and keeps nothing: results and the README are for
  // whole runs.
  if (only) {
    log(`\n${((Date.now() - started) / 1000).toFixed(0)} s in all (--only: nothing written)`);
    await dropDatabase(DB);
    return;
  }
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const machine = `${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  mkdirSync(path.join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(
    path.join(ROOT, `bench/results/${stamp}.json`),
    JSON.stringify(
      {
        date: new Date().toISOString(),
        mode: quick ? 'quick' : full ? 'full' : 'standard',
        products: PRODUCTS,
        machine,
        rows,
      },
      null,
      2,
    ) + '\n',
  );
  // Formatted as the repository formats Markdown, so the README stays lint-clean.
  const md = await prettier.format(
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine} (${quick ? 'quick' : full ? 'full' : 'standard'} run, ${PRODUCTS.toLocaleString('en-US')} products).\n\n${table}\n`,
    { ...(await prettier.resolveConfig(path.join(ROOT, 'README.md'))), parser: 'markdown' },
  );
  writeFileSync(path.join(ROOT, `bench/results/${stamp}.md`), md);
  // The newest table goes into the README's performance section.
  const readme = path.join(ROOT, 'README.md');
  const text = readFileSync(readme, 'utf8');
  const start = '<!-- bench:start -->';
  const end = '<!-- bench:end -->';
  if (text.includes(start) && text.includes(end)) {
    writeFileSync(
      readme,
      `${text.slice(0, text.indexOf(start) + start.length)}\n\n${md}\n${text.slice(text.indexOf(end))}`,
    );
  }
  log(
    `\nresults in bench/results/${stamp}.{json,md}; ${((Date.now() - started) / 1000).toFixed(0)} s in all`,
  );
  await dropDatabase(DB);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exitCode = 1;
});
