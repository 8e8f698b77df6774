/**
 * The fault-injection harness: ShopFlow as a real child process (`shopflow serve`, API and worker
 * in one), a load of shoppers that place orders with Idempotency-Keys and retry as a well-behaved
 * client does, and the checks every scenario ends with (no duplicate, no lost answer, exact stock,
 * every event delivered and consumed with the effect of once).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import amqplib from 'amqplib';
import type pg from 'pg';
import { expect } from 'vitest';
import { EXCHANGE } from '../../src/platform/events/bus.ts';
import { shopflow } from '../helpers/cli.ts';
import { eventually } from '../helpers/eventually.ts';
import { freePort } from '../ports.ts';

const BIN = new URL('../../bin/shopflow.js', import.meta.url).pathname;
export const AMQP_URL = process.env.TEST_AMQP_URL ?? 'amqp://guest:guest@127.0.0.1:5672';
/** FAULTS_SOAK=1: a longer run (600 orders, as in the scenario) instead of the quick one. */
export const SOAK = process.env.FAULTS_SOAK === '1';

/** The environment every scenario's server gets, on top of its own. */
export function baseEnv(dataDir: string): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOST: '127.0.0.1',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'warn',
    SHOPFLOW_ROLE: 'all',
    SHOPFLOW_DATA_DIR: dataDir,
    STORAGE_DRIVER: 'local',
    PAYMENT_PROVIDER: 'test',
    RATE_LIMIT_ENABLED: 'false',
    MAX_PENDING_ORDERS_PER_ADDRESS: '0',
    MAX_PENDING_UNITS_PER_ADDRESS: '0',
    GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: '0',
    DB_POOL_MAX: '10',
    DB_CONNECTION_TIMEOUT_MS: '1000',
    SHUTDOWN_GRACE_MS: '2000',
    REDIS_KEY_PREFIX: `f${randomUUID().slice(0, 8)}:`,
    CRON_BACKUP_CREATE: 'off',
    CRON_BACKUP_VERIFY: 'off',
    CRON_BACKUP_PRUNE: 'off',
  };
}

export interface ServerProcess {
  base: string;
  child: ChildProcess;
  /** Resolves with the exit code (or signal) when the process ends. */
  exited: Promise<number | string>;
  readonly alive: boolean;
  /** What the process wrote (the last 200 kB), for a failing test's message. */
  output(): string;
  stop(): Promise<void>;
}

/** Starts `shopflow serve` and waits until it listens. */
export async function startServer(
  env: Record<string, string>,
  port?: number,
  command = 'serve',
): Promise<ServerProcess> {
  const listenPort = port ?? (await freePort());
  const child = spawn(process.execPath, [BIN, command], {
    env: { ...env, PORT: String(listenPort) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (d: Buffer) => {
    out = (out + d.toString('utf8')).slice(-200_000);
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  let alive = true;
  const exited = new Promise<number | string>((resolve) =>
    child.once('exit', (code, signal) => {
      alive = false;
      resolve(code ?? signal ?? 'unknown');
    }),
  );
  const started = Date.now();
  while (!out.includes('listening on')) {
    if (!alive) throw new Error(`the server exited while starting:\n${out}`);
    if (Date.now() - started > 60_000) throw new Error(`the server did not start within 60 s:\n${out}`);
    await sleep(50);
  }
  return {
    base: `http://127.0.0.1:${listenPort}`,
    child,
    exited,
    get alive() {
      return alive;
    },
    output: () => out,
    async stop() {
      if (!alive) return;
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(10_000).then(() => 'timeout')]);
      if (code === 'timeout') child.kill('SIGKILL');
    },
  };
}

/** A new admin key, made by the CLI against the scenario's database. */
export async function adminKey(env: Record<string, string>): Promise<string> {
  const r = await shopflow(['admin', 'create-key', '--name', 'faults'], env);
  const key = /sf_admin_\S+/.exec(r.stdout)?.[0];
  if (!key) throw new Error(`could not create an admin key: ${r.stderr || r.stdout}`);
  return key;
}

export async function createProducts(
  base: string,
  key: string,
  count: number,
  stock: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const res = await fetch(`${base}/admin/products`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: `Produto de falha ${i}`, basePrice: 1000 + i, availableQuantity: stock }),
    });
    if (res.status !== 201) throw new Error(`product create: ${res.status} ${await res.text()}`);
    ids.push(((await res.json()) as { id: string }).id);
  }
  return ids;
}

/** One order as a shopper experiences it. */
export interface OrderRun {
  key: string;
  productId: string;
  quantity: number;
  /** Every order id an answer carried (more than one would be a duplicate). */
  orderIds: Set<string>;
  attempts: number;
  /** Statuses and network errors seen on the way, in order. */
  seen: string[];
  startedAt: number;
  /** When the order was placed and, then, confirmed (ms since the epoch). */
  placedAt?: number;
  confirmedAt?: number;
}

/** A status a client retries after (with the same Idempotency-Key); anything else is an answer. */
const RETRY = new Set([409, 429, 500, 502, 503, 504]);

/** Sends until a definitive answer: retried on network errors, 5xx, 429 and 409 request_in_progress. */
async function untilAnswered(
  run: OrderRun,
  send: () => Promise<Response>,
  deadline: number,
  isDone: (status: number, body: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown>> {
  for (;;) {
    if (Date.now() > deadline) throw new Error(`no answer for ${run.key} in time: ${run.seen.join(' ')}`);
    run.attempts++;
    try {
      const res = await send();
      const body = (await res.json().catch(() => ({}))) as Record<string, unknown>;
      const code = (body.error as { code?: string } | undefined)?.code;
      const done = isDone(res.status, body);
      // A refusal that is the answer (a retried confirmation finding the order confirmed) is marked so.
      run.seen.push(code ? `${res.status} ${code}${done ? ' (the answer)' : ''}` : String(res.status));
      if (done) return body;
      if (!RETRY.has(res.status) || (res.status === 409 && code !== 'request_in_progress'))
        throw new Error(`unexpected answer for ${run.key}: ${res.status} ${JSON.stringify(body)}`);
    } catch (err) {
      if ((err as Error).message.startsWith('unexpected answer')) throw err;
      run.seen.push((err as Error).name === 'TimeoutError' ? 'timeout' : 'neterr');
    }
    await sleep(100 + Math.random() * 200);
  }
}

/**
 * `clients` shoppers place `orders` orders between them, each with its own Idempotency-Key and
 * retried until answered; an admin then confirms each (retried too), which makes the worker render
 * its invoice. `base()` is read at each call, so the server may be replaced meanwhile.
 */
export async function runLoad(options: {
  base: () => string;
  adminKey: string;
  products: string[];
  clients: number;
  orders: number;
  /** Give up on one order after this long (a failure of the test). */
  orderDeadlineMs?: number;
  /** A shopper's pause between two orders, so the load spans the faults. */
  thinkMs?: number;
  onProgress?: (done: number) => void;
}): Promise<OrderRun[]> {
  const runs: OrderRun[] = Array.from({ length: options.orders }, (_, i) => ({
    key: randomUUID(),
    productId: options.products[i % options.products.length]!,
    quantity: 1 + (i % 3),
    orderIds: new Set<string>(),
    attempts: 0,
    seen: [],
    startedAt: 0,
  }));
  let next = 0;
  let done = 0;
  const json = { 'content-type': 'application/json' };
  const shopper = async () => {
    for (;;) {
      const run = runs[next++];
      if (!run) return;
      run.startedAt = Date.now();
      const deadline = run.startedAt + (options.orderDeadlineMs ?? 90_000);
      const placed = await untilAnswered(
        run,
        () =>
          fetch(`${options.base()}/store/orders`, {
            method: 'POST',
            headers: { ...json, 'idempotency-key': run.key },
            body: JSON.stringify({ items: [{ productId: run.productId, quantity: run.quantity }] }),
            signal: AbortSignal.timeout(10_000),
          }),
        deadline,
        (status) => status === 201,
      );
      run.orderIds.add(placed.id as string);
      run.placedAt = Date.now();
      // A retried confirmation finds the order confirmed already: 409 invalid_transition, with the
      // order's status in the details, is then the answer too.
      await untilAnswered(
        run,
        () =>
          fetch(`${options.base()}/admin/orders/${placed.id as string}/transition`, {
            method: 'POST',
            headers: { ...json, authorization: `Bearer ${options.adminKey}` },
            body: JSON.stringify({ to: 'confirmed' }),
            signal: AbortSignal.timeout(10_000),
          }),
        deadline,
        (status, body) =>
          status === 200 ||
          (status === 409 &&
            (body.error as { details?: { from?: string } } | undefined)?.details?.from === 'confirmed'),
      );
      run.confirmedAt = Date.now();
      options.onProgress?.(++done);
      await sleep((options.thinkMs ?? 0) * (0.5 + Math.random()));
    }
  };
  await Promise.all(Array.from({ length: options.clients }, shopper));
  return runs;
}

/** A queue of our own on the real broker, bound to `order.placed`: what the store's consumers would see. */
export async function recordPlacedEvents(): Promise<{ ids: string[]; close(): Promise<void> }> {
  const conn = await amqplib.connect(AMQP_URL);
  const ch = await conn.createChannel();
  await ch.assertExchange(EXCHANGE, 'topic', { durable: true });
  const { queue } = await ch.assertQueue('', { exclusive: true });
  await ch.bindQueue(queue, EXCHANGE, 'order.placed');
  const ids: string[] = [];
  await ch.consume(
    queue,
    (m) => m && ids.push((JSON.parse(m.content.toString()) as { aggregateId: string }).aggregateId),
    {
      noAck: true,
    },
  );
  return { ids, close: () => conn.close() };
}

async function invoicesIn(dataDir: string): Promise<string[]> {
  const files = await readdir(dataDir, { recursive: true }).catch(() => [] as string[]);
  return files.filter((f) => f.endsWith('.pdf')).map((f) => path.basename(f, '.pdf'));
}

/**
 * The end of every scenario: each order placed once with one answer, the stock exact, each
 * `order.placed` event in the outbox once and delivered (at least once) to the broker, and each
 * confirmed order's invoice rendered exactly once by the worker's consumer.
 */
export async function checkInvariants(options: {
  runs: OrderRun[];
  db: pg.Pool;
  stock: number;
  products: string[];
  dataDir: string;
  events?: { ids: string[] };
}): Promise<void> {
  const { runs, db } = options;
  // What a shopper met on the way: answers or clear, retryable refusals; never a 500.
  const clear =
    /^(200|201|503 dependency_unavailable|409 request_in_progress|409 invalid_transition \(the answer\)|neterr|timeout)$/;
  expect(runs.flatMap((r) => r.seen).filter((s) => !clear.test(s))).toEqual([]);
  // No lost answer, no duplicate: each key got exactly one order id, and they are all different.
  for (const r of runs) expect(r.orderIds.size, `${r.key}: ${r.seen.join(' ')}`).toBe(1);
  const answered = new Set(runs.flatMap((r) => [...r.orderIds]));
  expect(answered.size).toBe(runs.length);
  const { rows: orders } = await db.query<{ id: string; status: string }>(
    `SELECT id, status FROM orders WHERE id IN (SELECT order_id FROM order_items WHERE product_id = ANY($1::uuid[]))`,
    [options.products],
  );
  expect(orders.length).toBe(runs.length);
  expect(new Set(orders.map((o) => o.id))).toEqual(answered);
  expect(orders.every((o) => o.status === 'confirmed')).toBe(true);

  // Stock: what was sold left the shelf once, and is held once for the confirmed orders.
  const { rows: levels } = await db.query<{
    product_id: string;
    available_quantity: number;
    reserved_quantity: number;
  }>(
    'SELECT product_id, available_quantity, reserved_quantity FROM inventory WHERE product_id = ANY($1::uuid[])',
    [options.products],
  );
  for (const l of levels) {
    const sold = runs.filter((r) => r.productId === l.product_id).reduce((s, r) => s + r.quantity, 0);
    expect({ product: l.product_id, available: l.available_quantity, reserved: l.reserved_quantity }).toEqual(
      {
        product: l.product_id,
        available: options.stock - sold,
        reserved: sold, // confirmed orders hold their stock until they ship
      },
    );
  }

  // The outbox holds each order's event once, and the relay publishes all of them.
  const { rows: outbox } = await db.query<{ aggregate_id: string; n: number }>(
    `SELECT aggregate_id, COUNT(*)::int AS n FROM outbox
     WHERE event_type = 'order.placed' AND aggregate_id = ANY($1::text[]) GROUP BY aggregate_id`,
    [[...answered]],
  );
  expect(outbox.length).toBe(runs.length);
  expect(outbox.every((o) => o.n === 1)).toBe(true);
  await eventually(
    async () => {
      const { rows } = await db.query<{ n: number }>(
        'SELECT COUNT(*)::int AS n FROM outbox WHERE published_at IS NULL',
      );
      expect(rows[0]!.n).toBe(0);
    },
    { timeoutMs: 30_000, intervalMs: 200 },
  );
  if (options.events) {
    const events = options.events;
    // At least once: duplicates may arrive after a fault, and are harmless (consumers are idempotent).
    await eventually(() => expect(new Set(events.ids.filter((id) => answered.has(id)))).toEqual(answered), {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
  }
  // The worker's invoice consumer: exactly one invoice per confirmed order, however often its
  // event was delivered.
  await eventually(
    async () => {
      const invoices = (await invoicesIn(options.dataDir)).filter((id) => answered.has(id));
      expect(invoices.length).toBe(answered.size);
      expect(new Set(invoices)).toEqual(answered);
    },
    { timeoutMs: 60_000, intervalMs: 250 },
  );
}

/** The slowest order among those a fault interrupted, counted from the end of the fault. */
export function worstRecovery(runs: OrderRun[], faults: { start: number; end: number }[]): number {
  let worst = 0;
  for (const r of runs) {
    for (const f of faults) {
      const finished = r.confirmedAt ?? Infinity;
      if (r.startedAt < f.end && finished > f.start) worst = Math.max(worst, finished - f.end);
    }
  }
  return worst;
}

/** One line per scenario in the test output: what the faults did to the shoppers. */
export function report(
  scenario: string,
  runs: OrderRun[],
  faults: { start: number; end: number }[],
  delivered: number,
  probes: unknown[] = [],
): void {
  const retried = runs.filter((r) => r.attempts > 2).length;
  const answers: Record<string, number> = {};
  for (const r of runs) for (const s of r.seen) answers[s] = (answers[s] ?? 0) + 1;
  console.info(
    `[faults:${scenario}] ${runs.length} orders, ${retried} needed retries (${runs.reduce((s, r) => s + r.attempts, 0)} requests), ` +
      `answers ${JSON.stringify(answers)}, worst recovery ${worstRecovery(runs, faults)} ms after a fault, ` +
      `${delivered} order.placed deliveries so far, probes ${JSON.stringify(probes)}`,
  );
}
