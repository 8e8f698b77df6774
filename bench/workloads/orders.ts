/**
 * Order placement on random variants (of one- and several-variant products) with ample stock, 20 connections, against pgbench running
 * the same statements; then the same with an Idempotency-Key on each order.
 */
import { randomUUID } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { dbUrl } from '../lib/database.ts';
import { load, pct, statusNote, type BenchContext, type Row } from '../lib/load.ts';
import { ROOT, SECONDS } from '../lib/options.ts';

export async function orders(ctx: BenchContext): Promise<Row[]> {
  const { server, pool, variantIds: ids } = ctx;
  // The baseline first.
  const bench = spawnSync(
    'pgbench',
    [
      ...['-n', '-c', '20', '-j', '2', '-T', String(SECONDS), '-D', `nproducts=${ids.length}`],
      ...['-f', path.join(ROOT, 'bench/order.pgbench.sql'), dbUrl],
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
              items: [{ variantId: ids[Math.floor(Math.random() * ids.length)], quantity: 1 }],
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
  // The key is claimed by the order's statement and the answer stored by a second one.
  const keyed = await orderLoad(SECONDS, true);
  ctx.keyedRate = keyed.requests.average;
  return [
    {
      workload: 'order placement',
      metric: 'orders/s',
      value: order.requests.average,
      baseline: { name: 'pgbench, same SQL', value: tps },
      ratio: order.requests.average / tps,
      target: '>= 0.9',
      met: order.requests.average / tps >= 0.9,
      ...pct(order),
      note: statusNote(order),
    },
    {
      workload: 'order placement with Idempotency-Key',
      metric: 'orders/s',
      value: keyed.requests.average,
      baseline: { name: 'pgbench, same SQL as above', value: tps },
      ratio: keyed.requests.average / tps,
      target: '>= 0.7',
      met: keyed.requests.average / tps >= 0.7,
      ...pct(keyed),
      note: statusNote(keyed),
    },
  ];
}
