import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { ordersAdminRoutes, ordersStoreRoutes } from './orders.routes.ts';
import type { OrdersService } from './orders.service.ts';

export function ordersModule(deps: {
  orders: OrdersService;
  sessions: SessionHelpers;
  expirySeconds: number;
  pendingTtlMinutes: number;
}): ShopFlowModule {
  return {
    name: 'orders',
    jobs:
      deps.expirySeconds > 0
        ? [deps.orders.expiryJob(deps.expirySeconds * 1000, deps.pendingTtlMinutes)]
        : [],
    routes: [
      routes('public', ordersStoreRoutes, { orders: deps.orders, sessions: deps.sessions }),
      routes('admin', ordersAdminRoutes, { orders: deps.orders }),
    ],
  };
}
