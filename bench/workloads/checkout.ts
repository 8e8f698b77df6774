/**
 * The whole path of a real storefront, per order: create a cart (a new guest session), add an
 * item, set the shipping address, ask for the freight options, choose one, check out with the
 * buyer and an Idempotency-Key, pay with the test provider; the worker renders the invoice
 * meanwhile. Ten shoppers, each one order after another; CPU per order of every process.
 */
import { randomUUID } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import type { BenchContext, Row } from '../lib/load.ts';
import { SECONDS } from '../lib/options.ts';
import { cpuMs, cpuMsOf } from '../lib/processes.ts';
import { BENCH_ADDRESS, BENCH_BUYER } from './freight.ts';

export async function checkout({ server, worker, variantIds: ids, keyedRate }: BenchContext): Promise<Row[]> {
  const serverCpu = cpuMs(server.proc.pid);
  const workerCpu = cpuMs(worker.proc.pid);
  const pgCpu = cpuMsOf('postgres');
  const redisCpu = cpuMsOf('redis-server');
  const flow = await checkoutFlow(server.url, ids, 10, SECONDS);
  const cpuPerOrder = (proc: ChildProcess, before: number | undefined) => {
    const after = cpuMs(proc.pid);
    return before === undefined || after === undefined ? undefined : (after - before) / flow.orders;
  };
  const perOrder = (command: string, before: number | undefined) => {
    const after = cpuMsOf(command);
    return before === undefined || after === undefined ? undefined : (after - before) / flow.orders;
  };
  const apiMs = cpuPerOrder(server.proc, serverCpu);
  const workerMs = cpuPerOrder(worker.proc, workerCpu);
  const pgMs = perOrder('postgres', pgCpu);
  const redisMs = perOrder('redis-server', redisCpu);
  const checkoutRate = flow.orders / flow.seconds;
  return [
    {
      workload: 'full guest checkout (cart, item, address, options, method, checkout, pay), 10 shoppers',
      metric: 'orders/s',
      value: checkoutRate,
      baseline: { name: 'keyed order placement above', value: keyedRate },
      ratio: checkoutRate / keyedRate,
      target: '>= 300 orders/s, >= 0.3',
      met: checkoutRate >= 300 && checkoutRate / keyedRate >= 0.3,
      p50: flow.p50,
      p95: flow.p95,
      p99: flow.p99,
      note: `${flow.failed} failed; CPU per order: api ${apiMs?.toFixed(2) ?? '?'} ms, worker ${workerMs?.toFixed(2) ?? '?'} ms (7 calls and the invoice), PostgreSQL ${pgMs?.toFixed(2) ?? '?'} ms, Redis ${redisMs?.toFixed(2) ?? '?'} ms`,
    },
  ];
}

/**
 * Shoppers going through the whole storefront path, each one order after another, for `seconds`:
 * create a cart, add an item, set the shipping address, ask for the freight options, choose the
 * first, check out with the buyer and an Idempotency-Key, pay. Orders completed (paid), failures,
 * and the latency of a whole order.
 */
async function checkoutFlow(base: string, ids: string[], shoppers: number, seconds: number) {
  const latencies: number[] = [];
  let orders = 0;
  let failed = 0;
  const post = async (url: string, body: unknown, headers: Record<string, string>, method = 'POST') => {
    const res = await fetch(`${base}${url}`, {
      method,
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
        const variantId = ids[Math.floor(Math.random() * ids.length)];
        await post(`/store/carts/${cart.body.id}/items`, { variantId, quantity: 1 }, auth);
        await post(`/store/carts/${cart.body.id}/shipping-address`, BENCH_ADDRESS, auth, 'PUT');
        const offered = (await post(`/store/carts/${cart.body.id}/shipping-options`, undefined, auth, 'GET'))
          .body as unknown as { options: { id: string }[] };
        await post(
          `/store/carts/${cart.body.id}/shipping-method`,
          { optionId: offered.options[0]!.id },
          auth,
          'PUT',
        );
        const order = await post(
          `/store/carts/${cart.body.id}/checkout`,
          { buyer: BENCH_BUYER },
          { ...auth, 'idempotency-key': randomUUID() },
        );
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
