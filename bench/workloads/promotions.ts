/**
 * Promotions: pricing a cart with 3 automatic promotions and a code on every read (one shopper,
 * one request after another: the latency a shopper sees), against reading the same cart with no
 * promotion live, in the same run; and the coupon race in the correctness rows: 200 checkouts of
 * carts carrying a code limited to 10 uses, all at once.
 */
import type pg from 'pg';
import { load, pct, type BenchContext, type Row } from '../lib/load.ts';
import { BENCH_ADDRESS, BENCH_BUYER } from './freight.ts';
import { CART_READS_TTL_MS } from '../../src/modules/promotions/promotions.reads.ts';

type Call = (
  method: string,
  url: string,
  body?: unknown,
  token?: string,
) => Promise<{ status: number; body: unknown }>;

export async function promotions({ server, pool, variantIds }: BenchContext): Promise<Row[]> {
  const call: Call = async (method, url, body, token) => {
    const res = await fetch(`${server.url}${url}`, {
      method,
      headers: {
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...(token ? { authorization: `Bearer ${token}` } : {}),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? (JSON.parse(text) as unknown) : undefined };
  };
  // Lines by variant: among a seeded catalog's products, some have options (a productId is 400 there).
  const cart = await readyCart(call, variantIds.slice(0, 3));
  const read = () =>
    load({
      url: `${server.url}/store/carts/${cart.id}`,
      connections: 1,
      headers: { authorization: `Bearer ${cart.token}` },
    });
  const bare = await read();
  const made = await createPromotions(pool);
  // Written behind the api's back: its in-process list of automatic promotions ages out first.
  await new Promise((resolve) => setTimeout(resolve, CART_READS_TTL_MS + 500));
  try {
    const applied = await call('POST', `/store/carts/${cart.id}/promotions`, { code: made.code }, cart.token);
    if (applied.status !== 200) throw new Error(`applying the bench code: ${applied.status}`);
    const priced = await read();
    const p = pct(priced);
    const race = await couponRace(call, pool, variantIds[3]!);
    return [
      {
        workload: 'cart pricing: 3 automatic promotions and a code, one shopper',
        metric: 'cart reads/s',
        value: priced.requests.average,
        baseline: { name: 'the same cart, no promotion live', value: bare.requests.average },
        ratio: priced.requests.average / bare.requests.average,
        ...p,
        target: 'p95 < 5 ms',
        met: (p.p95 ?? Infinity) < 5,
        note: `${(applied.body as { discounts: unknown[] }).discounts.length} discounts on the cart; baseline p95 ${pct(bare).p95} ms; ${priced.non2xx} non-2xx`,
      },
      {
        workload: 'correctness: 200 checkouts race for a code limited to 10 uses',
        metric: 'orders carrying it',
        value: race.placed,
        target: 'exactly 10; 190 x 409 promotion_exhausted; used = 10',
        met: race.placed === 10 && race.exhausted === 190 && race.used === 10,
        note: `${race.exhausted} x 409 promotion_exhausted, ${race.other} other answers; promotions.used = ${race.used}; ${race.seconds.toFixed(1)} s`,
      },
    ];
  } finally {
    await pool.query('UPDATE promotions SET deleted_at = NOW() WHERE id = ANY($1::uuid[])', [made.ids]);
  }
}

/** A guest cart with these variants, an address, the freight chosen and a buyer. */
async function readyCart(call: Call, variants: string[]): Promise<{ id: string; token: string }> {
  const created = await call('POST', '/store/carts');
  const { id, sessionToken: token } = created.body as { id: string; sessionToken: string };
  for (const variantId of variants) {
    const added = await call('POST', `/store/carts/${id}/items`, { variantId, quantity: 2 }, token);
    if (added.status !== 200) throw new Error(`adding to the bench cart: ${added.status}`);
  }
  await call('PUT', `/store/carts/${id}/shipping-address`, BENCH_ADDRESS, token);
  const options = await call('GET', `/store/carts/${id}/shipping-options`, undefined, token);
  const option = (options.body as { options: { id: string }[] }).options[0]!;
  await call('PUT', `/store/carts/${id}/shipping-method`, { optionId: option.id }, token);
  await call('PUT', `/store/carts/${id}/buyer`, BENCH_BUYER, token);
  return { id, token };
}

/** 3 automatic promotions (5 % combinable, R$ 5 above R$ 50, free shipping above R$ 99) and a 10 % code. */
async function createPromotions(pool: pg.Pool): Promise<{ ids: string[]; code: string }> {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO promotions (name, automatic, kind, value, min_subtotal, combinable)
     VALUES ('Bench 5%', true, 'percentage', 5, 0, true),
            ('Bench R$ 5', true, 'fixed', 500, 5000, false),
            ('Bench frete', true, 'free_shipping', 0, 9900, false),
            ('Bench cupom 10%', false, 'percentage', 10, 0, true)
     RETURNING id`,
  );
  const code = `BENCH10-${Date.now()}`;
  await pool.query('INSERT INTO promotion_codes (promotion_id, code, single_use) VALUES ($1, $2, false)', [
    rows[3]!.id,
    code,
  ]);
  return { ids: rows.map((r) => r.id), code };
}

/** 200 carts carrying a code limited to 10 uses, checked out all at once. */
async function couponRace(call: Call, pool: pg.Pool, variant: string) {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO promotions (name, kind, value, usage_limit) VALUES ('Bench 10 usos', 'fixed', 1000, 10) RETURNING id`,
  );
  const promotionId = rows[0]!.id;
  const code = `BENCHRACE-${Date.now()}`;
  await pool.query('INSERT INTO promotion_codes (promotion_id, code, single_use) VALUES ($1, $2, false)', [
    promotionId,
    code,
  ]);
  try {
    const carts: { id: string; token: string }[] = [];
    for (let i = 0; i < 200; i++) {
      const c = await readyCart(call, [variant]);
      const applied = await call('POST', `/store/carts/${c.id}/promotions`, { code }, c.token);
      if (applied.status !== 200) throw new Error(`applying the race code: ${applied.status}`);
      carts.push(c);
    }
    const started = performance.now();
    const answers = await Promise.all(
      carts.map((c) => call('POST', `/store/carts/${c.id}/checkout`, undefined, c.token)),
    );
    const seconds = (performance.now() - started) / 1000;
    const placed = answers.filter((a) => a.status === 201).length;
    const exhausted = answers.filter(
      (a) => a.status === 409 && (a.body as { error: { code: string } }).error.code === 'promotion_exhausted',
    ).length;
    const used = (
      await pool.query<{ used: number }>('SELECT used FROM promotions WHERE id = $1', [promotionId])
    ).rows[0]!.used;
    return { placed, exhausted, other: 200 - placed - exhausted, used, seconds };
  } finally {
    await pool.query('UPDATE promotions SET deleted_at = NOW() WHERE id = $1', [promotionId]);
  }
}
