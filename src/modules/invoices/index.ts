import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { invoicesRoutes } from './invoices.routes.ts';
import type { InvoicesService } from './invoices.service.ts';

export function invoicesModule(deps: {
  invoices: InvoicesService;
  sessions: SessionHelpers;
}): ShopFlowModule {
  return {
    name: 'invoices',
    routes: [routes('public', invoicesRoutes, deps)],
    consumers: [deps.invoices.consumer()],
  };
}
