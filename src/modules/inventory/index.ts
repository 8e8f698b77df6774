import { routes, type ShopFlowModule } from '../module.ts';
import { inventoryAdminRoutes } from './inventory.routes.ts';
import type { InventoryService } from './inventory.service.ts';

export function inventoryModule(deps: { inventory: InventoryService }): ShopFlowModule {
  return { name: 'inventory', routes: [routes('admin', inventoryAdminRoutes, deps)] };
}
