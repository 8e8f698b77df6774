import type pg from 'pg';
import type { ShopFlowModule } from '../module.ts';
import { expireTransientRowsJob } from './housekeeping.jobs.ts';

/** Deletes expired sessions and idempotency records. */
export function housekeepingModule(deps: { pool: pg.Pool }): ShopFlowModule {
  return {
    name: 'housekeeping',
    jobs: [expireTransientRowsJob(deps.pool)],
  };
}
