import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import type { CepLookup } from './cep-lookup.ts';
import { cepRoutes, shippingAdminRoutes } from './shipping.routes.ts';
import type { ShippingService } from './shipping.service.ts';

export function shippingModule(deps: {
  shipping: ShippingService;
  cepLookup: CepLookup;
  cepLimiter: RateLimiter;
}): ShopFlowModule {
  return {
    name: 'shipping',
    routes: [
      routes('public', cepRoutes, { lookup: deps.cepLookup, limiter: deps.cepLimiter }),
      routes('admin', shippingAdminRoutes, { shipping: deps.shipping }),
    ],
    jobs: [deps.shipping.purgeJob()],
  };
}
