import type { Logger } from 'pino';
import { routes, type ShopFlowModule } from '../module.ts';
import { searchAdminRoutes, searchStoreRoutes } from './search.routes.ts';
import type { SearchService } from './search.service.ts';

export function searchModule(deps: { search: SearchService; logger: Logger }): ShopFlowModule {
  const { search } = deps;
  return {
    name: 'search',
    routes: [
      routes('public', searchStoreRoutes, { search }),
      routes('admin', searchAdminRoutes, { search, logger: deps.logger }),
    ],
    consumers: [search.consumer()],
    jobs: [search.reconcileJob(), search.popularityJob()],
    health: [{ name: 'search', required: false, check: () => search.ping() }],
  };
}
