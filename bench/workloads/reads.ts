/** Product read, cache hit, over 10,000 ids, against bare Fastify answering the same bytes. */
import type { ChildProcess } from 'node:child_process';
import type autocannon from 'autocannon';
import { load, pct, type BenchContext, type Row } from '../lib/load.ts';
import { cpuMs } from '../lib/processes.ts';

export async function reads({ server, baseline, ids }: BenchContext): Promise<Row[]> {
  // Warm every id first.
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
      before === undefined || after === undefined ? undefined : ((after - before) * 1000) / r.requests.total;
    return { r, us };
  };
  const { r: reads, us: readsUs } = await cpuPerRequest(server.proc, () =>
    load({ url: server.url, connections: 50, requests: productPaths() }),
  );
  const { r: bare, us: bareUs } = await cpuPerRequest(baseline.proc, () =>
    load({ url: baseline.url, connections: 50, requests: productPaths() }),
  );
  return [
    {
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
    },
  ];
}
