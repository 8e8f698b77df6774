import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { ordersAdminRoutes, ordersStoreRoutes } from './orders.routes.ts';
import type { OrdersService } from './orders.service.ts';

export function ordersModule(deps: { orders: OrdersService; sessions: SessionHelpers }): ShopFlowModule {
  return {
    name: 'orders',
    routes: [
      routes('public', ordersStoreRoutes, deps),
      routes('admin', ordersAdminRoutes, { orders: deps.orders }),
    ],
  };
}
