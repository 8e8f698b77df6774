import type pg from 'pg';
import type { ShopFlowModule } from '../module.ts';
import { expireTransientRowsJob } from './housekeeping.jobs.ts';

/** Deletes expired sessions and idempotency records. */
export function housekeepingModule(deps: { pool: pg.Pool; expireSeconds: number }): ShopFlowModule {
  return {
    name: 'housekeeping',
    jobs: deps.expireSeconds > 0 ? [expireTransientRowsJob(deps.pool, deps.expireSeconds * 1000)] : [],
  };
}
