import { routes, type ShopFlowModule } from '../module.ts';
import { promotionCodesAdminRoutes, promotionsAdminRoutes } from './promotions.routes.ts';
import type { PromotionsService } from './promotions.service.ts';

export function promotionsModule(deps: { promotions: PromotionsService }): ShopFlowModule {
  return {
    name: 'promotions',
    routes: [
      routes('admin', promotionsAdminRoutes, { promotions: deps.promotions }),
      routes('admin', promotionCodesAdminRoutes, { promotions: deps.promotions }),
    ],
  };
}
