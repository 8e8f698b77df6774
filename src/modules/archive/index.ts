import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { archiveStoreRoutes } from './archive.routes.ts';
import type { ArchiveService } from './archive.service.ts';

/** Order archival to cold storage (the `archive-orders` job; restore from the CLI). */
export function archiveModule(deps: { archive: ArchiveService; sessions: SessionHelpers }): ShopFlowModule {
  return {
    name: 'archive',
    routes: [routes('public', archiveStoreRoutes, deps)],
    jobs: [deps.archive.job()],
  };
}
