import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { paymentsAdminRoutes, paymentsStoreRoutes, paymentsWebhookRoutes } from './payments.routes.ts';
import type { PaymentsService } from './payments.service.ts';

export function paymentsModule(deps: {
  payments: PaymentsService;
  sessions: SessionHelpers;
  failedPaymentDays: number;
}): ShopFlowModule {
  return {
    name: 'payments',
    routes: [
      routes('public', paymentsStoreRoutes, { payments: deps.payments, sessions: deps.sessions }),
      routes('public', paymentsWebhookRoutes, { payments: deps.payments }),
      routes('admin', paymentsAdminRoutes, { payments: deps.payments }),
    ],
    consumers: [deps.payments.consumer()],
    jobs: [deps.payments.purgeJob(deps.failedPaymentDays), deps.payments.reconcileJob()],
  };
}
