import type pg from 'pg';
import { defineJob, type Job } from '../../platform/jobs/job.ts';

/** Deletes rows past their `expires_at` (sessions, idempotency keys) in small batches. */
export function expireTransientRowsJob(pool: pg.Pool, batch = 5000): Job {
  return defineJob({
    name: 'expire-transient-rows',
    description: 'Deletes expired sessions and idempotency records, in batches',
    async run({ signal, progress }) {
      const deleted: Record<string, number> = { sessions: 0, idempotency_keys: 0 };
      const statements = {
        sessions: `DELETE FROM sessions WHERE id IN (
                     SELECT id FROM sessions WHERE expires_at < NOW() LIMIT $1)`,
        idempotency_keys: `DELETE FROM idempotency_keys WHERE (scope, key) IN (
                     SELECT scope, key FROM idempotency_keys WHERE expires_at < NOW() LIMIT $1)`,
      } as const;
      for (const table of ['sessions', 'idempotency_keys'] as const) {
        for (;;) {
          if (signal.aborted) return deleted;
          const { rowCount } = await pool.query(statements[table], [batch]);
          deleted[table]! += rowCount ?? 0;
          progress({ done: deleted.sessions! + deleted.idempotency_keys!, unit: 'rows' });
          if ((rowCount ?? 0) < batch) break;
        }
      }
      return deleted;
    },
  });
}
