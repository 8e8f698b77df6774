import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { isConnectionError, isRetryableTxError } from './pg-errors.ts';
import { borrowClient } from './pool.ts';

export interface TransactionOptions {
  /** Attempts after the first on serialization failures and deadlocks. Default 3. */
  retries?: number;
  isolation?: 'read committed' | 'repeatable read' | 'serializable';
  readOnly?: boolean;
  /** Told about an after-commit effect that failed (the transaction itself committed). */
  onEffectError?: (error: unknown) => void;
}

/** An effect that must happen only once the transaction's changes are visible (a cache eviction, a notification). */
export type AfterCommit = () => void | Promise<void>;

/** A client inside a transaction, which also collects the effects to run after its commit. */
export type Tx = pg.PoolClient & {
  /** Runs `effect` after COMMIT, in the order given; never if the transaction rolls back or is retried. */
  afterCommit(effect: AfterCommit): void;
};

/**
 * Runs `fn` inside one transaction on a client borrowed from `pool`, committing when it resolves
 * and rolling back when it throws. Serialization failures and deadlocks are retried a bounded
 * number of times with jittered backoff; `fn` must therefore be safe to run again: side effects
 * outside the database go through the outbox, or through `tx.afterCommit(...)`, which runs them
 * once the commit succeeded (and drops those of an attempt that rolled back). An effect that fails
 * does not fail the call: its change already committed.
 */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (tx: Tx) => Promise<T>,
  options: TransactionOptions = {},
): Promise<T> {
  const retries = options.retries ?? 3;
  const begin =
    'BEGIN' +
    (options.isolation ? ` ISOLATION LEVEL ${options.isolation.toUpperCase()}` : '') +
    (options.readOnly ? ' READ ONLY' : '');
  for (let attempt = 0; ; attempt++) {
    // Borrowed: listened to for errors while held (a connection that dies mid-transaction must not
    // end the process; the failing query rejects as well).
    const borrowed = await borrowClient(pool);
    const client = borrowed.client;
    const effects: AfterCommit[] = [];
    const tx = Object.assign(client, {
      afterCommit: (effect: AfterCommit) => void effects.push(effect),
    });
    let broken = false;
    let result: T;
    try {
      await client.query(begin);
      result = await fn(tx);
      await client.query('COMMIT');
    } catch (error) {
      if (borrowed.broken || isConnectionError(error)) {
        // The connection itself failed (or stopped answering): the server rolls back when it
        // notices; this client is closed, not returned to the pool.
        broken = true;
      } else {
        try {
          await client.query('ROLLBACK');
        } catch {
          broken = true;
        }
      }
      if (attempt < retries && isRetryableTxError(error)) {
        await sleep(5 * 2 ** attempt + Math.random() * 10);
        continue;
      }
      throw error;
    } finally {
      // The client goes back to the pool without the collector attached to it.
      delete (client as Partial<Tx>).afterCommit;
      borrowed.release(broken);
    }
    await runEffects(effects, options.onEffectError);
    return result;
  }
}

async function runEffects(effects: AfterCommit[], onError?: (error: unknown) => void): Promise<void> {
  for (const effect of effects) {
    try {
      await effect();
    } catch (error) {
      onError?.(error);
    }
  }
}
