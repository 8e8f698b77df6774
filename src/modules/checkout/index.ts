import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { checkoutRoutes } from './checkout.routes.ts';
import type { CheckoutService } from './checkout.service.ts';

export function checkoutModule(deps: {
  checkout: CheckoutService;
  sessions: SessionHelpers;
}): ShopFlowModule {
  return { name: 'checkout', routes: [routes('public', checkoutRoutes, deps)] };
}
