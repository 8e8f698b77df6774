/**
 * Product read, cache hit, over 10,000 ids, against bare Fastify answering the same bytes; and
 * the read of one product with 12 variants (3 sizes x 4 colours), against bare Fastify answering
 * that product's page.
 */
import type { ChildProcess } from 'node:child_process';
import type autocannon from 'autocannon';
import { freePort } from '../../test/ports.ts';
import { load, pct, type BenchContext, type Row } from '../lib/load.ts';
import { cpuMs, startProcess, stop } from '../lib/processes.ts';
import { createVariantProduct } from '../lib/variant-product.ts';

// Also the server's CPU time per request (from /proc, on Linux): steadier than req/s when the
// load generator shares the cores.
async function cpuPerRequest(proc: ChildProcess, run: () => Promise<autocannon.Result>) {
  const before = cpuMs(proc.pid);
  const r = await run();
  const after = cpuMs(proc.pid);
  const us =
    before === undefined || after === undefined ? undefined : ((after - before) * 1000) / r.requests.total;
  return { r, us };
}

/** The row of a read against its bare-Fastify baseline: req/s ratio, and server CPU per request. */
function readRow(
  workload: string,
  target: { text: string; ratio: number; cpu?: number },
  ours: { r: autocannon.Result; us: number | undefined },
  bare: { r: autocannon.Result; us: number | undefined },
  extra = '',
): Row {
  const ratio = ours.r.requests.average / bare.r.requests.average;
  const cpu = ours.us !== undefined && bare.us !== undefined ? ours.us / bare.us : undefined;
  return {
    workload,
    metric: 'req/s',
    value: ours.r.requests.average,
    baseline: { name: 'bare Fastify', value: bare.r.requests.average },
    ratio,
    target: target.text,
    met: ratio >= target.ratio && (target.cpu === undefined || (cpu !== undefined && cpu <= target.cpu)),
    ...pct(ours.r),
    note:
      (cpu !== undefined
        ? `server CPU per request: ${ours.us!.toFixed(0)} µs (bare Fastify ${bare.us!.toFixed(0)} µs: ${cpu.toFixed(2)}x)`
        : '') + extra,
  };
}

export async function reads({ server, baseline, ids }: BenchContext): Promise<Row[]> {
  // Warm every id first.
  for (let i = 0; i < ids.length; i += 200)
    await Promise.all(ids.slice(i, i + 200).map((id) => fetch(`${server.url}/store/products/${id}`)));
  // Both runs send the same paths, so the load generator does the same work for each.
  const productPaths = (): autocannon.Request[] => {
    let k = 0;
    return [{ setupRequest: (req) => ({ ...req, path: `/store/products/${ids[k++ % ids.length]}` }) }];
  };
  const ours = await cpuPerRequest(server.proc, () =>
    load({ url: server.url, connections: 50, requests: productPaths() }),
  );
  const bare = await cpuPerRequest(baseline.proc, () =>
    load({ url: baseline.url, connections: 50, requests: productPaths() }),
  );
  return [
    readRow('product read (cache hit)', { text: '>= 0.85, CPU <= 1.2x', ratio: 0.85, cpu: 1.2 }, ours, bare),
    await variantRead(server.url, server.proc),
  ];
}

/**
 * One product with 12 variants, read over and over (a cache hit) at 50 connections; the baseline
 * is bare Fastify (bench/baseline-server.ts, a process of its own) answering that product's page
 * as a constant: the same bytes on the wire.
 */
async function variantRead(serverUrl: string, serverProc: ChildProcess): Promise<Row> {
  const id = await createVariantProduct(serverUrl);
  const page = await (await fetch(`${serverUrl}/store/products/${id}`)).text();
  const bareVariant = await startProcess(['--import', 'tsx', 'bench/baseline-server.ts'], {
    PORT: String(await freePort()),
    PRODUCT_JSON: page,
  });
  try {
    const path = `/store/products/${id}`;
    const ours = await cpuPerRequest(serverProc, () => load({ url: `${serverUrl}${path}`, connections: 50 }));
    const bare = await cpuPerRequest(bareVariant.proc, () =>
      load({ url: `${bareVariant.url}${path}`, connections: 50 }),
    );
    return readRow(
      'product read, 12 variants (3 sizes x 4 colours, cache hit)',
      { text: '>= 0.8', ratio: 0.8 },
      ours,
      bare,
      `; ${Buffer.byteLength(page).toLocaleString('en-US')} bytes a page; ${ours.r.non2xx} non-2xx`,
    );
  } finally {
    await stop(bareVariant.proc);
  }
}
