import { routes, type ShopFlowModule } from '../module.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { catalogAdminRoutes, catalogStoreRoutes, categoryAdminRoutes } from './catalog.routes.ts';
import { catalogFileRoutes } from './catalog-files.routes.ts';
import { variantAdminRoutes } from './variants.routes.ts';
import type { CatalogImportService } from './catalog-import.service.ts';
import type { CatalogService } from './catalog.service.ts';

export function catalogModule(deps: {
  catalog: CatalogService;
  files: CatalogImportService;
  /** Imports per admin key and minute (each reads and writes up to 100,000 rows). */
  imports: RateLimiter;
}): ShopFlowModule {
  return {
    name: 'catalog',
    routes: [
      routes('public', catalogStoreRoutes, { catalog: deps.catalog }),
      routes('admin', catalogAdminRoutes, { catalog: deps.catalog }),
      routes('admin', variantAdminRoutes, { catalog: deps.catalog }),
      routes('admin', categoryAdminRoutes, { catalog: deps.catalog }),
      routes('admin', catalogFileRoutes, { files: deps.files, imports: deps.imports }),
    ],
  };
}
