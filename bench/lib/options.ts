/** What this run measures: the mode (--quick, --full), the catalog size, the groups (--only). */
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
export const quick = process.argv.includes('--quick');
export const full = process.argv.includes('--full');
export const mode = quick ? 'quick' : full ? 'full' : 'standard';
export const SECONDS = quick ? 5 : 15;
export const PRODUCTS = full ? 1_000_000 : 100_000;
// `--only reads,orders,checkout,search` runs those groups alone on the workloads' catalog (no
// million-product seed, nothing written to bench/results or the README): for iterating on one
// path. Checkout's ratio needs orders.
const onlyArg = process.argv.find((a, i) => process.argv[i - 1] === '--only' || a.startsWith('--only='));
export const only = onlyArg ? new Set(onlyArg.replace(/^--only=/, '').split(',')) : undefined;
export type Group =
  | 'reads'
  | 'orders'
  | 'checkout'
  | 'freight'
  | 'promotions'
  | 'search'
  | 'bulk'
  | 'hot'
  | 'stampede'
  | 'soak'
  | 'webhooks'
  | 'import';
/** Whether this run measures `group`; the soak runs in --full (or alone with `--only soak`). */
export const want = (group: Group) =>
  group === 'soak' ? (only ? only.has('soak') : full) : !only || only.has(group);
// The soak: 5 minutes unless BENCH_SOAK_SECONDS says.
export const SOAK_SECONDS = Number(process.env.BENCH_SOAK_SECONDS ?? 300);
export const log = (s: string) => process.stdout.write(`${s}\n`);
