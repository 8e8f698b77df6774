/**
 * Soak: reads and orders alternating on 20 connections; the api's and the worker's resident set
 * sampled as it goes. Memory is flat when the last minute is where the first was.
 */
import { load, pct, statusNote, type BenchContext, type Row } from '../lib/load.ts';
import { SOAK_SECONDS } from '../lib/options.ts';
import { rssNowMiB } from '../lib/processes.ts';

export async function soak({ server, worker, ids, variantIds }: BenchContext): Promise<Row[]> {
  const samples: { api: number; worker: number }[] = [];
  const sample = () =>
    samples.push({ api: rssNowMiB(server.proc.pid) ?? NaN, worker: rssNowMiB(worker.proc.pid) ?? NaN });
  const timer = setInterval(sample, 10_000);
  let k = 0;
  const run = await load({
    url: server.url,
    connections: 20,
    duration: SOAK_SECONDS,
    requests: [
      { setupRequest: (req) => ({ ...req, path: `/store/products/${ids[k++ % ids.length]}` }) },
      {
        method: 'POST',
        setupRequest: (req) => ({
          ...req,
          path: '/store/orders',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({
            items: [{ variantId: variantIds[Math.floor(Math.random() * variantIds.length)], quantity: 1 }],
          }),
        }),
      },
    ],
  });
  clearInterval(timer);
  sample();
  const window = Math.max(1, Math.min(6, Math.floor(samples.length / 3)));
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(samples.slice(0, window).map((x) => x.api));
  const last = mean(samples.slice(-window).map((x) => x.api));
  const firstW = mean(samples.slice(0, window).map((x) => x.worker));
  const lastW = mean(samples.slice(-window).map((x) => x.worker));
  return [
    {
      workload: `soak: ${SOAK_SECONDS} s of reads and orders, 20 connections`,
      metric: 'MiB (api RSS, end)',
      value: last,
      baseline: { name: 'api RSS at the start', value: first },
      ratio: last / first,
      target: 'flat (<= 1.1)',
      met: last / first <= 1.1,
      ...pct(run),
      note: `${run.requests.total.toLocaleString('en-US')} requests, ${statusNote(run)}; worker ${firstW.toFixed(0)} -> ${lastW.toFixed(0)} MiB; samples (api/worker, every 10 s) ${samples.map((x) => `${x.api.toFixed(0)}/${x.worker.toFixed(0)}`).join(' ')}`,
    },
  ];
}
