/**
 * Outgoing webhooks: 10,000 events (inventory.changed, 20 per product on 500 products, a sequence
 * number in each as `availableQuantity`; no other consumer binds that type, so the relay's pace is
 * the webhooks' own) written to the outbox at once and fanned out to 5 local endpoints by the worker:
 * 50,000 signed deliveries. Every receiver verifies each signature with `standardwebhooks` and
 * checks that no event is lost and that each product's events arrive in order. Deliveries/s and
 * the lag (event written -> received) p95 are reported; the baseline is the same 50,000 signed
 * POSTs sent straight from this process with undici at the worker's concurrency (the ceiling of
 * HTTP plus signing on this machine).
 *
 * Then memory: one endpoint goes down (connection refused) while another 10,000 events flow to the
 * other four, and its backlog is made due again every second (as if an hour of retries went by).
 * What the worker holds is read after a full collection (lib/heap.ts) before and after the rounds,
 * and compared; its resident set is also sampled every second, as it is, garbage included.
 */
import { createHash, randomBytes } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Webhook } from 'standardwebhooks';
import { Agent, request } from 'undici';
import { recordEvents } from '../../src/platform/events/outbox.ts';
import { memoryAfterGc } from '../lib/heap.ts';
import type { BenchContext, Row } from '../lib/load.ts';
import { log, quick } from '../lib/options.ts';
import { rssNowMiB } from '../lib/processes.ts';

const EVENTS = 10_000;
const PRODUCTS = 500;
const ENDPOINTS = 5;
/** The worker's WEBHOOK_CONCURRENCY (bench/run.ts sets it): the baseline sends as many at once. */
export const BENCH_WEBHOOK_CONCURRENCY = 20;

interface Receiver {
  url: string;
  secret: string;
  /** webhook-id -> first arrival time. */
  seen: Map<string, number>;
  duplicates: number;
  badSignatures: number;
  outOfOrder: number;
  /** Per product: the last sequence number received. */
  last: Map<string, number>;
  lags: number[];
  down: boolean;
  server: http.Server;
}

async function startReceiver(): Promise<Receiver> {
  const r = {
    secret: '',
    seen: new Map<string, number>(),
    duplicates: 0,
    badSignatures: 0,
    outOfOrder: 0,
    last: new Map<string, number>(),
    lags: [] as number[],
    down: false,
  } as Receiver;
  r.server = http.createServer({ keepAliveTimeout: 10_000 }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      const raw = Buffer.concat(chunks).toString('utf8');
      const headers = req.headers as Record<string, string>;
      if (r.secret) {
        try {
          new Webhook(r.secret).verify(raw, headers);
        } catch {
          r.badSignatures++;
        }
      }
      const id = headers['webhook-id']!;
      if (r.seen.has(id)) r.duplicates++;
      else {
        r.seen.set(id, now);
        const body = JSON.parse(raw) as {
          timestamp: string;
          data: { productId: string; availableQuantity: number };
        };
        const seq = body.data.availableQuantity;
        const product = body.data.productId;
        if ((r.last.get(product) ?? -1) > seq) r.outOfOrder++;
        r.last.set(product, seq);
        r.lags.push(now - Date.parse(body.timestamp));
      }
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => r.server.listen(0, '127.0.0.1', resolve));
  r.url = `http://127.0.0.1:${(r.server.address() as AddressInfo).port}/hook`;
  return r;
}

const percentile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * q))] ?? NaN;
};

/** An admin key straight into the table (the bench owns its database). */
async function adminKey(ctx: BenchContext): Promise<string> {
  const key = `sf_admin_${randomBytes(32).toString('base64url')}`;
  await ctx.pool.query(
    `INSERT INTO admin_api_keys (name, key_prefix, key_hash, scopes) VALUES ($1, $2, $3, '{*}')`,
    [`bench-webhooks-${Date.now()}`, key.slice(0, 16), createHash('sha256').update(key).digest('hex')],
  );
  return key;
}

/** Writes `count` inventory.changed events on PRODUCTS products, sequence numbers from `from`. */
async function writeEvents(ctx: BenchContext, from: number, count: number): Promise<void> {
  const products = ctx.ids.slice(0, PRODUCTS);
  for (let start = 0; start < count; start += 1000) {
    const batch = Array.from({ length: Math.min(1000, count - start) }, (_, i) => {
      const n = from + start + i;
      const productId = products[n % PRODUCTS]!;
      return {
        type: 'inventory.changed',
        aggregateType: 'product',
        aggregateId: productId,
        payload: { productId, availableQuantity: Math.floor(n / PRODUCTS), reservedQuantity: 0 },
      };
    });
    await recordEvents(ctx.pool, batch);
  }
}

/**
 * Waits for `done`, analysing webhook_deliveries every 5 s meanwhile: the table goes from empty to
 * 50,000 rows in seconds, and on a busy machine autovacuum's analyze (which keeps the claim on its
 * indexes in a long-lived database) comes minutes late.
 */
async function waitFor(
  ctx: BenchContext,
  what: string,
  done: () => boolean,
  timeoutMs: number,
): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  let analysed = 0;
  while (!done()) {
    if (Date.now() > deadline) {
      log(`  ${what}: gave up after ${timeoutMs / 1000} s`);
      return false;
    }
    if (Date.now() - analysed > 5000) {
      await ctx.pool.query('ANALYZE webhook_deliveries');
      analysed = Date.now();
    }
    await sleep(100);
  }
  return true;
}

/** The baseline: the same number of signed POSTs, straight from here, at the worker's concurrency. */
async function bareHttp(receivers: Receiver[], total: number): Promise<number> {
  const agent = new Agent({ connections: BENCH_WEBHOOK_CONCURRENCY });
  const body = JSON.stringify({
    type: 'baseline',
    timestamp: new Date().toISOString(),
    data: { productId: 'x' },
  });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: BENCH_WEBHOOK_CONCURRENCY }, async () => {
      while (next < total) {
        const n = next++;
        const r = receivers[n % receivers.length]!;
        const id = `msg_base_${n}`;
        const at = new Date();
        const res = await request(r.url, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
            'webhook-signature': new Webhook(r.secret).sign(id, at, body),
          },
          body,
        });
        await res.body.dump();
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await agent.close();
  return total / seconds;
}

export async function webhooks(ctx: BenchContext): Promise<Row[]> {
  const key = await adminKey(ctx);
  const receivers = await Promise.all(Array.from({ length: ENDPOINTS }, startReceiver));
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ctx.server.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      ...(body ? { body: JSON.stringify(body) } : {}),
    });
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : ((await res.json()) as { id: string; secret: string });
  };
  const endpoints: string[] = [];
  const rows: Row[] = [];
  try {
    for (const r of receivers) {
      const e = (await admin('POST', '/admin/webhooks', { url: r.url, events: ['inventory.changed'] }))!;
      r.secret = e.secret;
      endpoints.push(e.id);
    }

    // 1. Throughput and lag: 10,000 events x 5 endpoints.
    const started = Date.now();
    await writeEvents(ctx, 0, EVENTS);
    const expected = EVENTS * ENDPOINTS;
    const received = () => receivers.reduce((n, r) => n + r.seen.size, 0);
    await waitFor(ctx, 'deliveries', () => received() >= expected, 600_000);
    const last = Math.max(...receivers.flatMap((r) => [...r.seen.values()]));
    const seconds = (last - started) / 1000;
    const rate = received() / seconds;
    const lags = receivers.flatMap((r) => r.lags);
    const lost = expected - received();
    const duplicates = receivers.reduce((n, r) => n + r.duplicates, 0);
    const outOfOrder = receivers.reduce((n, r) => n + r.outOfOrder, 0);
    const bad = receivers.reduce((n, r) => n + r.badSignatures, 0);
    log(`  ${received()} deliveries in ${seconds.toFixed(1)} s; baseline (bare undici + signing)...`);
    const baseline = await bareHttp(receivers, expected);
    rows.push({
      workload: `webhooks: ${EVENTS.toLocaleString('en-US')} events to ${ENDPOINTS} endpoints`,
      metric: 'deliveries/s',
      value: rate,
      baseline: { name: 'the same signed POSTs from one process, undici', value: baseline },
      ratio: rate / baseline,
      target: 'no loss, in order',
      met: lost === 0 && outOfOrder === 0 && bad === 0,
      p50: Math.round(percentile(lags, 0.5)),
      p95: Math.round(percentile(lags, 0.95)),
      p99: Math.round(percentile(lags, 0.99)),
      note: `lag from event to receipt (ms) in the latency column; lost ${lost}, duplicates ${duplicates}, out of order ${outOfOrder}, bad signatures ${bad}; ${seconds.toFixed(1)} s in all`,
    });

    // 2. Memory while one endpoint is down: 10,000 more events (the four live endpoints take
    // theirs), then its whole backlog is made due again every second, as if the retries of an
    // hour went by, while the worker's resident set is sampled.
    const down = receivers[ENDPOINTS - 1]!;
    await new Promise<void>((resolve) => {
      down.server.closeAllConnections();
      down.server.close(() => resolve());
    });
    down.down = true;
    const live = () => receivers.slice(0, -1).reduce((n, r) => n + r.seen.size, 0);
    const before = live();
    await writeEvents(ctx, EVENTS, EVENTS);
    const liveDone = await waitFor(
      ctx,
      'deliveries to the four live endpoints',
      () => live() >= before + EVENTS * (ENDPOINTS - 1),
      600_000,
    );
    const liveGot = live() - before;
    // What the worker holds, after a full collection, before and after the rounds (lib/heap.ts):
    // the sampled resident set also carries the garbage of the attempts not collected yet.
    const inspectPort = ctx.worker.inspectPort;
    if (!inspectPort) throw new Error('the worker was started without --inspect (bench/run.ts)');
    const held = () => memoryAfterGc(ctx.worker.proc.pid, inspectPort);
    const heldBefore = await held();
    const samples: number[] = [];
    const rounds = quick ? 30 : 90;
    for (let i = 0; i < rounds; i++) {
      await ctx.pool.query(
        `UPDATE webhook_deliveries SET next_attempt_at = NOW() WHERE endpoint_id = $1 AND status = 'pending'`,
        [endpoints[ENDPOINTS - 1]],
      );
      await sleep(1000);
      samples.push(rssNowMiB(ctx.worker.proc.pid) ?? NaN);
    }
    const heldAfter = await held();
    const { rows: backlog } = await ctx.pool.query<{ pending: number; attempts: number }>(
      `SELECT COUNT(*)::int AS pending, COALESCE(SUM(attempts), 0)::int AS attempts FROM webhook_deliveries
       WHERE endpoint_id = $1 AND status = 'pending'`,
      [endpoints[ENDPOINTS - 1]],
    );
    const window = Math.max(1, Math.floor(samples.length / 4));
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const first = mean(samples.slice(0, window));
    const end = mean(samples.slice(-window));
    const mib = (x: number) => x.toFixed(0);
    rows.push(
      {
        workload: `webhooks: one endpoint down, ${rounds} retry rounds`,
        metric: 'MiB (worker RSS after a full GC, end)',
        value: heldAfter.rssMiB,
        baseline: { name: 'the same before the rounds', value: heldBefore.rssMiB },
        ratio: heldAfter.rssMiB / heldBefore.rssMiB,
        target: 'flat (<= 1.1)',
        met: heldAfter.rssMiB / heldBefore.rssMiB <= 1.1,
        note: `V8 heap in use after the GC ${mib(heldBefore.heapUsedMiB)} -> ${mib(heldAfter.heapUsedMiB)} MiB; down endpoint: ${backlog[0]!.pending} pending, ${backlog[0]!.attempts} attempts so far; the other 4 got ${liveGot.toLocaleString('en-US')} of ${(EVENTS * 4).toLocaleString('en-US')} new deliveries${liveDone ? '' : ' (gave up waiting)'} before the rounds`,
      },
      {
        workload: `webhooks: one endpoint down, RSS as sampled`,
        metric: 'MiB (worker RSS, last quarter of the rounds)',
        value: end,
        baseline: { name: 'first quarter (right after a full GC)', value: first },
        ratio: end / first,
        target: 'reported (garbage not collected yet included)',
        note: `samples every second ${samples.map(mib).join(' ')}`,
      },
    );
  } finally {
    for (const id of endpoints) await admin('DELETE', `/admin/webhooks/${id}`).catch(() => undefined);
    await Promise.all(
      receivers
        .filter((r) => !r.down)
        .map(
          (r) =>
            new Promise<void>((resolve) => {
              r.server.closeAllConnections();
              r.server.close(() => resolve());
            }),
        ),
    );
  }
  return rows;
}
