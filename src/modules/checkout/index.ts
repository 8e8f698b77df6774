import type { SessionHelpers } from '../../http/session.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { checkoutRoutes } from './checkout.routes.ts';
import type { CheckoutService } from './checkout.service.ts';
import { deliveryRoutes } from './delivery.routes.ts';
import type { DeliveryService } from './delivery.service.ts';

export function checkoutModule(deps: {
  checkout: CheckoutService;
  delivery: DeliveryService;
  sessions: SessionHelpers;
  quotes: RateLimiter;
}): ShopFlowModule {
  return {
    name: 'checkout',
    routes: [
      routes('public', checkoutRoutes, { checkout: deps.checkout, sessions: deps.sessions }),
      routes('public', deliveryRoutes, {
        delivery: deps.delivery,
        sessions: deps.sessions,
        quotes: deps.quotes,
      }),
    ],
  };
}
