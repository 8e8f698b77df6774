/** Stampede: 1,000 concurrent reads of one cold product; how many database loads (exactly one). */
import type { BenchContext, Row } from '../lib/load.ts';

export async function stampede({ server, pool }: BenchContext): Promise<Row[]> {
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
  return [
    {
      workload: 'stampede (1,000 cold reads)',
      metric: 'database loads',
      value: stampedeLoads,
      target: 'exactly 1',
      met: stampedeLoads === 1,
    },
  ];
}
