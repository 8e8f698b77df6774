/** Hot product: every buyer on one variant with 500 units; not one unit oversold. */
import { load, pct, type BenchContext, type Row } from '../lib/load.ts';

export async function hot({ server, pool, variantIds }: BenchContext): Promise<Row[]> {
  // A product outside the random pool above, and a recount of this run's orders only.
  const { rows: hotRows } = await pool.query<{ id: string; now: string }>(
    'SELECT id, NOW()::text AS now FROM bench_variant_ids WHERE n = $1',
    [variantIds.length + 1],
  );
  const hot = hotRows[0]!.id;
  const hotStart = hotRows[0]!.now;
  await pool.query(
    'UPDATE inventory SET available_quantity = 500, reserved_quantity = 0 WHERE variant_id = $1',
    [hot],
  );
  const hotRun = await load({
    url: `${server.url}/store/orders`,
    connections: 50,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ items: [{ variantId: hot, quantity: 1 }] }),
  });
  const { rows: inv } = await pool.query<{ available_quantity: number; reserved_quantity: number }>(
    'SELECT available_quantity, reserved_quantity FROM inventory WHERE variant_id = $1',
    [hot],
  );
  const { rows: sold } = await pool.query<{ n: number }>(
    'SELECT COALESCE(SUM(quantity), 0)::int AS n FROM order_items oi JOIN orders o ON o.id = oi.order_id WHERE oi.variant_id = $1 AND o.created_at >= $2::timestamptz',
    [hot, hotStart],
  );
  const oversold = Math.max(0, sold[0]!.n - 500);
  return [
    {
      workload: 'hot product (500 units)',
      metric: 'orders/s',
      value: hotRun.requests.average,
      ...pct(hotRun),
      target: 'oversold 0',
      met: oversold === 0,
      note: `sold ${sold[0]!.n}, available ${inv[0]!.available_quantity}, reserved ${inv[0]!.reserved_quantity}, oversold ${oversold}`,
    },
  ];
}
