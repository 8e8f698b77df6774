import { routes, type ShopFlowModule } from '../module.ts';
import { catalogAdminRoutes, catalogStoreRoutes, categoryAdminRoutes } from './catalog.routes.ts';
import type { CatalogService } from './catalog.service.ts';

export function catalogModule(deps: { catalog: CatalogService }): ShopFlowModule {
  return {
    name: 'catalog',
    routes: [
      routes('public', catalogStoreRoutes, { catalog: deps.catalog }),
      routes('admin', catalogAdminRoutes, { catalog: deps.catalog }),
      routes('admin', categoryAdminRoutes, { catalog: deps.catalog }),
    ],
  };
}
