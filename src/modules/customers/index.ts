import type { SessionHelpers } from '../../http/session.ts';
import type { LoginThrottle } from '../../platform/ratelimit/login-throttle.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { addressBookRoutes, customersAdminRoutes, customersRoutes } from './customers.routes.ts';
import type { CustomersService } from './customers.service.ts';
import type { AddressesService } from './addresses.service.ts';

export function customersModule(deps: {
  customers: CustomersService;
  addresses: AddressesService;
  sessions: SessionHelpers;
  throttle: LoginThrottle;
  registrations: RateLimiter;
}): ShopFlowModule {
  return {
    name: 'customers',
    routes: [
      routes('public', customersRoutes, deps),
      routes('public', addressBookRoutes, { addresses: deps.addresses, sessions: deps.sessions }),
      routes('admin', customersAdminRoutes, { customers: deps.customers }),
    ],
  };
}
