import type { SessionHelpers } from '../../http/session.ts';
import type { LoginThrottle } from '../../platform/ratelimit/login-throttle.ts';
import type { CustomersService } from '../customers/customers.service.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { privacyAdminRoutes, privacyStoreRoutes } from './privacy.routes.ts';
import type { PrivacyService } from './privacy.service.ts';

/** Erasure and export of a customer's personal data (GDPR/LGPD). */
export function privacyModule(deps: {
  privacy: PrivacyService;
  customers: CustomersService;
  sessions: SessionHelpers;
  throttle: LoginThrottle;
}): ShopFlowModule {
  return {
    name: 'privacy',
    routes: [
      routes('admin', privacyAdminRoutes, { privacy: deps.privacy }),
      routes('public', privacyStoreRoutes, deps),
    ],
    consumers: [deps.privacy.consumer()],
  };
}
