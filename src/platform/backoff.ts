/**
 * Delays for background loops that retry a failing dependency: exponential, capped, with full
 * jitter (a random delay between zero and the exponential step), so that many workers coming back
 * after an outage do not retry in lockstep.
 */
export interface BackoffOptions {
  baseMs?: number;
  maxMs?: number;
  /** A number in [0, 1); Math.random by default (tests pass a fixed one). */
  random?: () => number;
}

/** The delay before retry number `failures` (1 = after the first failure). */
export function backoffDelay(failures: number, options: BackoffOptions = {}): number {
  const { baseMs = 200, maxMs = 10_000, random = Math.random } = options;
  if (failures <= 0) return 0;
  const step = Math.min(maxMs, baseMs * 2 ** Math.min(failures - 1, 30));
  // Never zero: at least a tenth of the step, so a tight loop cannot spin.
  return Math.round(step * (0.1 + 0.9 * random()));
}
