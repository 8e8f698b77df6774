/**
 * Freight quotes with a warm cache: one guest cart with an address asks for its shipping options
 * over and over (the table engine and Melhor Envio, the latter served from the quote cache after
 * the first call). Each answer still stores the options offered to the cart. Two rows: the
 * throughput at 10 connections (against reading the same cart, same session, same lines, in the
 * same run), whose latencies are mostly queueing on two cores; and the latency one shopper sees,
 * quotes one after another on one connection, which the target (p95 < 5 ms) is about.
 */
import os from 'node:os';
import { load, pct, sequential, type BenchContext, type Row } from '../lib/load.ts';
import { cpuMs } from '../lib/processes.ts';

export async function freight({ server, variantIds }: BenchContext): Promise<Row[]> {
  const call = async (method: string, url: string, body?: unknown, token?: string) => {
    const res = await fetch(`${server.url}${url}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return (await res.json()) as Record<string, unknown>;
  };
  const cart = (await call('POST', '/store/carts')) as { id: string; sessionToken: string };
  const token = cart.sessionToken;
  await call('POST', `/store/carts/${cart.id}/items`, { variantId: variantIds[0], quantity: 2 }, token);
  await call('PUT', `/store/carts/${cart.id}/shipping-address`, BENCH_ADDRESS, token);
  // Warm: the first quote fills the Melhor Envio cache.
  const warm = (await call('GET', `/store/carts/${cart.id}/shipping-options`, undefined, token)) as {
    options?: unknown[];
  };
  const headers = { authorization: `Bearer ${token}` };
  const base = await load({ url: `${server.url}/store/carts/${cart.id}`, connections: 10, headers });
  const quotes = await load({
    url: `${server.url}/store/carts/${cart.id}/shipping-options`,
    connections: 10,
    headers,
  });
  // One shopper: 2,000 quotes one after another after 200 unmeasured ones; and the api's CPU
  // time per quote (from /proc; a loaded machine inflates it too, through system time).
  await sequential(`${server.url}/store/carts/${cart.id}/shipping-options`, { n: 0, warmup: 200, headers });
  const cpuBefore = cpuMs(server.proc.pid);
  const one = await sequential(`${server.url}/store/carts/${cart.id}/shipping-options`, {
    n: 2000,
    warmup: 0,
    headers,
  });
  const cpuAfter = cpuMs(server.proc.pid);
  const apiUs =
    cpuBefore === undefined || cpuAfter === undefined
      ? '?'
      : (((cpuAfter - cpuBefore) * 1000) / 2000).toFixed(0);
  const load1 = os.loadavg()[0]!.toFixed(2);
  return [
    {
      workload: 'freight quote, warm cache (table + Melhor Envio), 10 connections',
      metric: 'quotes/s',
      value: quotes.requests.average,
      baseline: { name: 'GET the same cart', value: base.requests.average },
      ratio: quotes.requests.average / base.requests.average,
      ...pct(quotes),
      note: `throughput (latencies here are queueing); ${warm.options?.length ?? 0} options per answer; ${quotes.non2xx} non-2xx`,
    },
    {
      workload: 'freight quote, warm cache (table + Melhor Envio), one shopper',
      metric: 'quotes/s',
      value: one.perSecond,
      p50: one.p50,
      p95: one.p95,
      p99: one.p99,
      target: 'p95 < 5 ms',
      met: one.p95 < 5,
      note: `2,000 quotes one after another on one connection; api CPU ${apiUs} µs a quote; ${one.non2xx} non-2xx; load average ${load1} at the end`,
    },
  ];
}

/** Where the bench's carts are delivered (any UF works: the bench zone covers them all). */
export const BENCH_ADDRESS = {
  recipient: 'Cliente Bench',
  cep: '01310-100',
  street: 'Avenida Paulista',
  number: '1000',
  district: 'Bela Vista',
  city: 'São Paulo',
  state: 'SP',
};
export const BENCH_BUYER = {
  name: 'Cliente Bench',
  email: 'bench@example.com',
  document: { number: '123.456.789-09' },
};
