import { routes, type ShopFlowModule } from '../module.ts';
import { mediaAdminRoutes, mediaPublicRoutes } from './media.routes.ts';
import type { MediaService } from './media.service.ts';

export function mediaModule(deps: { media: MediaService; imageMaxBytes: number }): ShopFlowModule {
  return {
    name: 'media',
    routes: [
      routes('public', mediaPublicRoutes, { media: deps.media }),
      routes('admin', mediaAdminRoutes, { media: deps.media, maxBytes: deps.imageMaxBytes }, ['multipart']),
    ],
  };
}
