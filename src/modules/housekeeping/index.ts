import type pg from 'pg';
import type { ShopFlowModule } from '../module.ts';
import { expireTransientRowsJob, pruneHistoryJob } from './housekeeping.jobs.ts';

/** Deletes expired sessions and idempotency records, and old job records. */
export function housekeepingModule(deps: { pool: pg.Pool; jobRunDays: number }): ShopFlowModule {
  return {
    name: 'housekeeping',
    jobs: [expireTransientRowsJob(deps.pool), pruneHistoryJob(deps.pool, { jobRuns: deps.jobRunDays })],
  };
}
