import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import type { UploadsService } from '../uploads/uploads.service.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { cartPromotionsRoutes } from './carts-promotions.routes.ts';
import { cartsRoutes } from './carts.routes.ts';
import type { CartsService } from './carts.service.ts';

export function cartsModule(deps: {
  carts: CartsService;
  sessions: SessionHelpers;
  uploads: UploadsService;
  codeAttempts: { perSession: RateLimiter; perAddress: RateLimiter };
}): ShopFlowModule {
  return {
    name: 'carts',
    routes: [
      routes('public', cartsRoutes, deps),
      routes('public', cartPromotionsRoutes, {
        carts: deps.carts,
        sessions: deps.sessions,
        attempts: deps.codeAttempts,
      }),
    ],
    jobs: [deps.carts.purgeJob(), deps.carts.purgeCustomerCartsJob()],
  };
}
