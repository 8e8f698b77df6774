import { routes, type ShopFlowModule } from '../module.ts';
import { statsAdminRoutes } from './stats.routes.ts';
import type { StatsService } from './stats.service.ts';

export function statsModule(deps: { stats: StatsService }): ShopFlowModule {
  return {
    name: 'stats',
    routes: [routes('admin', statsAdminRoutes, { stats: deps.stats })],
    jobs: [deps.stats.refreshJob()],
  };
}
