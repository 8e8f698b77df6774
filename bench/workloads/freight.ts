/**
 * Freight quotes with a warm cache: one guest cart with an address asks for its shipping options
 * over and over (the table engine and Melhor Envio, the latter served from the quote cache after
 * the first call). Each answer still stores the options offered to the cart. Baseline: reading
 * the same cart (same session, same lines) in the same run.
 */
import { load, pct, type BenchContext, type Row } from '../lib/load.ts';

export async function freight({ server, ids }: BenchContext): Promise<Row[]> {
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
  await call('POST', `/store/carts/${cart.id}/items`, { productId: ids[0], quantity: 2 }, token);
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
  const p = pct(quotes);
  return [
    {
      workload: 'freight quote, warm cache (table + Melhor Envio), 10 connections',
      metric: 'quotes/s',
      value: quotes.requests.average,
      baseline: { name: 'GET the same cart', value: base.requests.average },
      ratio: quotes.requests.average / base.requests.average,
      ...p,
      target: 'p95 < 5 ms',
      met: (p.p95 ?? Infinity) < 5,
      note: `${warm.options?.length ?? 0} options per answer; ${quotes.non2xx} non-2xx`,
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
