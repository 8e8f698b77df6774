import type pg from 'pg';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { JobRunner } from '../../platform/jobs/runner.ts';
import { deleteExpiredSessions } from '../../platform/sessions/postgres.session-store.ts';
import type { IdempotencyService } from '../idempotency/idempotency.service.ts';

/**
 * Deletes rows past their `expires_at` (sessions, idempotency keys) in small batches, each through
 * the owner of its table.
 */
export function expireTransientRowsJob(
  deps: { pool: pg.Pool; idempotency: IdempotencyService },
  batch = 5000,
): Job {
  return defineJob({
    name: 'expire-transient-rows',
    schedule: '*/10 * * * *',
    retentionStep: 6,
    description: 'Deletes expired sessions and idempotency records, in batches',
    async run(ctx) {
      const sessions = await deleteExpiredSessions(deps.pool, ctx, batch);
      const idempotencyKeys = await deps.idempotency.purgeExpired(ctx, batch, sessions);
      return { sessions, idempotency_keys: idempotencyKeys - sessions };
    },
  });
}

/** Deletes the records of job runs older than the retention. */
export function pruneHistoryJob(jobs: JobRunner, days: { jobRuns: number }, batch = 5000): Job {
  return defineJob({
    name: 'prune-history',
    schedule: '50 3 * * *',
    description: `Deletes job run records older than ${days.jobRuns} days`,
    async run(ctx) {
      return { jobRuns: await jobs.pruneRuns(days.jobRuns, ctx, batch) };
    },
  });
}
