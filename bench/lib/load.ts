/** Load generation (autocannon) and the row every workload reports. */
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
