import type pg from 'pg';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { routes, type ShopFlowModule } from '../module.ts';
import { webhookDeliveriesRoutes } from './webhooks.deliveries.routes.ts';
import type { WebhookDispatcher } from './webhooks.dispatcher.ts';
import { webhookEventTypesRoutes, webhooksRoutes } from './webhooks.routes.ts';
import type { WebhooksService } from './webhooks.service.ts';

/** Outgoing webhooks: the admin routes, the fan-out consumer, the sending loop, the retention job. */
export function webhooksModule(deps: {
  webhooks: WebhooksService;
  dispatcher: WebhookDispatcher;
  pool: pg.Pool;
  /** Test events per admin key (WEBHOOK_TESTS_PER_MINUTE a minute). */
  testLimiter: RateLimiter;
}): ShopFlowModule {
  return {
    name: 'webhooks',
    routes: [
      routes('admin', webhookEventTypesRoutes, {}),
      routes('admin', webhooksRoutes, { service: deps.webhooks }),
      routes('admin', webhookDeliveriesRoutes, { service: deps.webhooks, testLimiter: deps.testLimiter }),
    ],
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
