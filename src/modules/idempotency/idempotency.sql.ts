/** The idempotency module's SQL: its one table, idempotency_keys. */
import type { Queryable } from '../../platform/db/pool.ts';
import type pg from 'pg';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import type { JobContext } from '../../platform/jobs/job.ts';

interface Row {
  request_hash: string;
  status: 'in_progress' | 'completed';
  order_id: string | null;
  expired: boolean;
  response_status: number | null;
  response_body: unknown;
  response_secret: string | null;
}

/**
 * Claims a key and stores its answer in one statement; no row when the key holds another live
 * answer. A live transaction's claim of the same key is waited for up to WAIT_FOR_HOLDER: the
 * set_config in the row's source runs before the insert meets the conflicting row, so the lock
 * wait of this very statement is bounded (then 55P03, lock_not_available).
 */
const CLAIM_AND_STORE_SQL = `INSERT INTO idempotency_keys AS k
    (scope, key, request_hash, status, response_status, response_body, response_secret)
  SELECT $1, $2, $3, 'completed', $4, $5, $6 FROM (SELECT set_config('lock_timeout', $7, true)) AS wait
  ON CONFLICT (scope, key) DO UPDATE SET
    request_hash = EXCLUDED.request_hash, status = 'completed', response_status = EXCLUDED.response_status,
    response_body = EXCLUDED.response_body, response_secret = EXCLUDED.response_secret, created_at = NOW(),
    expires_at = NOW() + INTERVAL '24 hours'
  -- Expired, or a committed in-progress row that placed nothing (left by an older version): nobody
  -- holds it. A claim naming an order is answered from that order, never taken over.
  WHERE k.expires_at < NOW() OR (k.status = 'in_progress' AND k.order_id IS NULL)
  RETURNING 1`;

export const idempotencySql = {
  /** Claims a key and stores its answer (see CLAIM_AND_STORE_SQL); false when the key is held. */
  async claimAndStore(
    db: Queryable,
    a: {
      scope: string;
      keyHash: string;
      requestHash: string;
      status: number;
      body: unknown;
      secret: string | null;
      lockTimeout: string;
    },
  ): Promise<boolean> {
    const { rowCount } = await db.query(CLAIM_AND_STORE_SQL, [
      a.scope,
      a.keyHash,
      a.requestHash,
      a.status,
      JSON.stringify(a.body),
      a.secret,
      a.lockTimeout,
    ]);
    return rowCount === 1;
  },

  /** Stores the answer on a claim made by the statement that placed `orderId`. */
  async storeClaimedAnswer(
    db: Queryable,
    a: { scope: string; keyHash: string; status: number; body: unknown; orderId: string },
  ): Promise<void> {
    await db.query(
      `UPDATE idempotency_keys SET status = 'completed', response_status = $3, response_body = $4
       WHERE scope = $1 AND key = $2 AND order_id = $5`,
      [a.scope, a.keyHash, a.status, JSON.stringify(a.body), a.orderId],
    );
  },

  async find(db: Queryable, scope: string, keyHash: string): Promise<Row | undefined> {
    const { rows } = await db.query<Row>(
      `SELECT request_hash, status, order_id, response_status, response_body, response_secret,
              expires_at < NOW() AS expired
       FROM idempotency_keys WHERE scope = $1 AND key = $2`,
      [scope, keyHash],
    );
    return rows[0];
  },

  /** Deletes expired keys, a batch per statement (each commits on its own). */
  deleteExpired(pool: pg.Pool, ctx: JobContext, batch: number, before: number): Promise<number> {
    return deleteInBatches(
      pool,
      `DELETE FROM idempotency_keys WHERE (scope, key) IN (
         SELECT scope, key FROM idempotency_keys WHERE expires_at < NOW() LIMIT $1)`,
      [],
      ctx,
      { batch, unit: 'rows', before },
    );
  },

  /** Erasure: the stored answers of one scope's keyed requests (their orders, with personal details). */
  async deleteScope(db: Queryable, scope: string): Promise<number> {
    const { rowCount } = await db.query('DELETE FROM idempotency_keys WHERE scope = $1', [scope]);
    return rowCount ?? 0;
  },
};
