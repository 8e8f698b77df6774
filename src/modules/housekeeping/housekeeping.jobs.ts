import type pg from 'pg';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';

/** Deletes rows past their `expires_at` (sessions, idempotency keys) in small batches. */
export function expireTransientRowsJob(pool: pg.Pool, batch = 5000): Job {
  return defineJob({
    name: 'expire-transient-rows',
    schedule: '*/10 * * * *',
    retentionStep: 4,
    description: 'Deletes expired sessions and idempotency records, in batches',
    async run(ctx) {
      const sessions = await deleteInBatches(
        pool,
        'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < NOW() LIMIT $1)',
        [],
        ctx,
        { batch, unit: 'rows' },
      );
      const idempotencyKeys = await deleteInBatches(
        pool,
        `DELETE FROM idempotency_keys WHERE (scope, key) IN (
           SELECT scope, key FROM idempotency_keys WHERE expires_at < NOW() LIMIT $1)`,
        [],
        ctx,
        { batch, unit: 'rows', before: sessions },
      );
      return { sessions, idempotency_keys: idempotencyKeys - sessions };
    },
  });
}

/** Deletes the records of job runs older than the retention. */
export function pruneHistoryJob(pool: pg.Pool, days: { jobRuns: number }, batch = 5000): Job {
  return defineJob({
    name: 'prune-history',
    schedule: '50 3 * * *',
    description: `Deletes job run records older than ${days.jobRuns} days`,
    async run(ctx) {
      const jobRuns = await deleteInBatches(
        pool,
        `DELETE FROM job_runs WHERE id IN (
           SELECT id FROM job_runs WHERE started_at < NOW() - make_interval(days => $1) LIMIT $2)`,
        [days.jobRuns],
        ctx,
        { batch, unit: 'rows' },
      );
      return { jobRuns };
    },
  });
}
