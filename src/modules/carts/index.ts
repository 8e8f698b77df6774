import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import type { UploadsService } from '../uploads/uploads.service.ts';
import { cartsRoutes } from './carts.routes.ts';
import type { CartsService } from './carts.service.ts';

export function cartsModule(deps: {
  carts: CartsService;
  sessions: SessionHelpers;
  uploads: UploadsService;
}): ShopFlowModule {
  return {
    name: 'carts',
    routes: [routes('public', cartsRoutes, deps)],
    jobs: [deps.carts.purgeJob(), deps.carts.purgeCustomerCartsJob()],
  };
}
