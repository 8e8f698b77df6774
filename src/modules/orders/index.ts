import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { orderReportsRoutes, ordersAdminRoutes, ordersStoreRoutes } from './orders.routes.ts';
import type { OrdersService } from './orders.service.ts';

export function ordersModule(deps: {
  orders: OrdersService;
  sessions: SessionHelpers;
  pendingTtlMinutes: number;
  /** The store's time zone (IANA name): where "today" starts on the dashboard. */
  timeZone: string;
}): ShopFlowModule {
  return {
    name: 'orders',
    jobs: [deps.orders.expiryJob(deps.pendingTtlMinutes)],
    routes: [
      routes('public', ordersStoreRoutes, { orders: deps.orders, sessions: deps.sessions }),
      routes('admin', ordersAdminRoutes, { orders: deps.orders }),
      routes('admin', orderReportsRoutes, { orders: deps.orders, timeZone: deps.timeZone }),
    ],
  };
}
