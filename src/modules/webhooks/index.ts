import type pg from 'pg';
import { routes, type ShopFlowModule } from '../module.ts';
import type { WebhookDispatcher } from './webhooks.dispatcher.ts';
import { webhooksRoutes } from './webhooks.routes.ts';
import type { WebhooksService } from './webhooks.service.ts';

/** Outgoing webhooks: the admin routes, the fan-out consumer, the sending loop, the retention job. */
export function webhooksModule(deps: {
  webhooks: WebhooksService;
  dispatcher: WebhookDispatcher;
  pool: pg.Pool;
}): ShopFlowModule {
  return {
    name: 'webhooks',
    routes: [routes('admin', webhooksRoutes, { service: deps.webhooks })],
    consumers: [deps.webhooks.consumer()],
    jobs: [deps.webhooks.pruneJob(deps.pool)],
    loops: [
      {
        name: 'webhook-dispatcher',
        start: () => deps.dispatcher.start(),
        stop: () => deps.dispatcher.stop(),
      },
    ],
  };
}
