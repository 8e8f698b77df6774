import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Retries `probe` until it returns without throwing (an `expect` that passes), and returns its
 * value; after `timeoutMs`, throws the probe's last error. Waits for a condition instead of
 * guessing how long it takes.
 */
export async function eventually<T>(
  probe: () => T | Promise<T>,
  options: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<T> {
  const deadline = Date.now() + (options.timeoutMs ?? 10_000);
  for (;;) {
    try {
      return await probe();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(options.intervalMs ?? 25);
    }
  }
}
