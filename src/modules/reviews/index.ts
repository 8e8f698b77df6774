import type { SessionHelpers } from '../../http/session.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { reviewsRoutes } from './reviews.routes.ts';
import type { ReviewsService } from './reviews.service.ts';

export function reviewsModule(deps: { reviews: ReviewsService; sessions: SessionHelpers }): ShopFlowModule {
  return { name: 'reviews', routes: [routes('public', reviewsRoutes, deps)] };
}
