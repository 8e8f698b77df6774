/** Load generation (autocannon) and the row every workload reports. */
import http from 'node:http';
import type pg from 'pg';
import autocannon from 'autocannon';
import { SECONDS } from './options.ts';
import type { Started } from './processes.ts';

export interface Row {
  workload: string;
  metric: string;
  value: number;
  baseline?: { name: string; value: number };
  ratio?: number;
  target?: string;
  p50?: number;
  p95?: number;
  p99?: number;
  note?: string;
  /** Whether the target was met in this run (rows with a target). */
  met?: boolean;
}

/** What every workload runs against: the api, the worker, the baseline server, the catalog. */
export interface BenchContext {
  server: Started;
  worker: Started;
  baseline: Started;
  /** A pool on the benchmark database (for setup and recounts, never for the measured load). */
  pool: pg.Pool;
  /** 10,000 product ids, each with ample stock. */
  ids: string[];
  /**
   * 10,000 variant ids, each with ample stock (about one in five of a product with several
   * variants; the others the one variant of a product, which has the product's id).
   */
  variantIds: string[];
  /** Filled by the order workload: the keyed placement rate the checkout compares itself with. */
  keyedRate: number;
}

export function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ duration: SECONDS, ...opts });
}

/** Status codes other than 2xx, e.g. "409 x12" (a benchmark never hides failures). */
export const statusNote = (r: autocannon.Result) =>
  r.non2xx === 0
    ? 'all 2xx'
    : Object.entries(r.statusCodeStats as Record<string, { count: number }>)
        .filter(([code]) => !code.startsWith('2'))
        .map(([code, v]) => `${code} x${v.count}`)
        .join(', ');
export const pct = (r: autocannon.Result) => ({
  p50: r.latency.p50,
  p95: r.latency.p97_5,
  p99: r.latency.p99,
});

/**
 * Latency as one shopper sees it: `n` requests one after another on one kept-alive connection
 * (after `warmup` unmeasured ones), each timed from send to the end of its answer. No queueing
 * behind other requests: what a page waits for. Percentiles in ms (fractions kept).
 */
export async function sequential(
  url: string,
  opts: { n: number; warmup: number; headers?: Record<string, string> },
): Promise<{ p50: number; p95: number; p99: number; non2xx: number; perSecond: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const get = () =>
    new Promise<number>((resolve, reject) => {
      const req = http.get(url, { agent, headers: opts.headers ?? {} }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      });
      req.on('error', reject);
    });
  try {
    for (let i = 0; i < opts.warmup; i++) await get();
    const ms: number[] = [];
    let non2xx = 0;
    const start = performance.now();
    for (let i = 0; i < opts.n; i++) {
      const t = performance.now();
      const status = await get();
      ms.push(performance.now() - t);
      if (status < 200 || status > 299) non2xx++;
    }
    const seconds = (performance.now() - start) / 1000;
    ms.sort((a, b) => a - b);
    const at = (q: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(q * ms.length))]! * 100) / 100;
    return { p50: at(0.5), p95: at(0.95), p99: at(0.99), non2xx, perSecond: opts.n / seconds };
  } finally {
    agent.destroy();
  }
}
