import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { isRetryableTxError } from './pg-errors.ts';

export interface TransactionOptions {
  /** Attempts after the first on serialization failures and deadlocks. Default 3. */
  retries?: number;
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
}

/**
 * Runs `fn` inside one transaction on a client borrowed from `pool`, committing when it resolves
 * and rolling back when it throws. Serialization failures and deadlocks are retried a bounded
 * number of times with jittered backoff; `fn` must therefore be safe to run again (no side effects
 * outside the database: publish after commit, via the outbox).
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (tx: pg.PoolClient) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  const begin =
    'BEGIN' +
    (options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : '') +
    (options.readOnly ? ' READ ONLY' : '');
  for (let attempt = 0; ; attempt++) {
    const client = await pool.connect();
    let broken = false;
    try {
      await client.query(begin);
      const result = await fn(client);
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch {
        // The connection itself failed: do not return it to the pool.
        broken = true;
      }
      if (attempt < retries && isRetryableTxError(error)) {
        await sleep(5 * 2 ** attempt + Math.random() * 10);
        continue;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }
}
