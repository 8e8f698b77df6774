import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { paymentsAdminRoutes, paymentsStoreRoutes } from './payments.routes.ts';
import type { PaymentsService } from './payments.service.ts';

export function paymentsModule(deps: {
  payments: PaymentsService;
  sessions: SessionHelpers;
}): ShopFlowModule {
  return {
    name: 'payments',
    routes: [
      routes('public', paymentsStoreRoutes, deps),
      routes('admin', paymentsAdminRoutes, { payments: deps.payments }),
    ],
  };
}
