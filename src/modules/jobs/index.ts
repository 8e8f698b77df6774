import type { JobRunner } from '../../platform/jobs/runner.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { jobsAdminRoutes } from './jobs.routes.ts';

/** The jobs as operators see them: schedules, run history, and runs on demand. */
export function jobsModule(deps: { jobs: JobRunner }): ShopFlowModule {
  return { name: 'jobs', routes: [routes('admin', jobsAdminRoutes, { jobs: deps.jobs })] };
}
