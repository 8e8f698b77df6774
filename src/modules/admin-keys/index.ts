import { routes, type ShopFlowModule } from '../module.ts';
import { adminKeysRoutes } from './admin-keys.routes.ts';
import type { AdminKeysService } from './admin-keys.service.ts';

export function adminKeysModule(deps: { adminKeys: AdminKeysService }): ShopFlowModule {
  return { name: 'admin-keys', routes: [routes('admin', adminKeysRoutes, { service: deps.adminKeys })] };
}
