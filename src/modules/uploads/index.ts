import type { SessionHelpers } from '../../http/session.ts';
import { LocalObjectStore } from '../../platform/storage/local.object-store.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { routes, type RouteSet, type ShopFlowModule } from '../module.ts';
import { localStorageRoutes } from './local-storage.routes.ts';
import { uploadsRoutes } from './uploads.routes.ts';
import type { UploadsService } from './uploads.service.ts';

/** Customer uploads; with the local object store, also the endpoints behind its signed URLs. */
export function uploadsModule(deps: {
  uploads: UploadsService;
  sessions: SessionHelpers;
  objects: ObjectStore;
  maxBytes: number;
}): ShopFlowModule {
  const sets: RouteSet[] = [
    routes('public', uploadsRoutes, { uploads: deps.uploads, sessions: deps.sessions }),
  ];
  if (deps.objects instanceof LocalObjectStore)
    sets.push(
      routes('public', localStorageRoutes, { store: deps.objects, maxBytes: deps.maxBytes }, ['multipart']),
    );
  return {
    name: 'uploads',
    routes: sets,
    jobs: [deps.uploads.expireJob()],
    health: [{ name: 'storage', required: false, check: () => deps.objects.ping() }],
  };
}
