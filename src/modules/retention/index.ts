import type { JobRunner } from '../../platform/jobs/runner.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { retentionAdminRoutes } from './retention.routes.ts';

/** Applying the retention rules on demand (their jobs belong to the modules whose data they keep). */
export function retentionModule(deps: { jobs: JobRunner }): ShopFlowModule {
  return { name: 'retention', routes: [routes('admin', retentionAdminRoutes, { jobs: deps.jobs })] };
}
