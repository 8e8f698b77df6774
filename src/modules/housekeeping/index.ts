import type pg from 'pg';
import type { JobRunner } from '../../platform/jobs/runner.ts';
import type { IdempotencyService } from '../idempotency/idempotency.service.ts';
import type { ShopFlowModule } from '../module.ts';
import { expireTransientRowsJob, pruneHistoryJob } from './housekeeping.jobs.ts';

/**
 * Deletes expired sessions and idempotency records, and old job records: a schedule over other
 * owners' purges (it owns no table).
 */
export function housekeepingModule(deps: {
  pool: pg.Pool;
  idempotency: IdempotencyService;
  jobs: JobRunner;
  jobRunDays: number;
}): ShopFlowModule {
  return {
    name: 'housekeeping',
    jobs: [
      expireTransientRowsJob({ pool: deps.pool, idempotency: deps.idempotency }),
      pruneHistoryJob(deps.jobs, { jobRuns: deps.jobRunDays }),
    ],
  };
}
