import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, IdParams, LimitSchema } from '../../http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { DeliveryParams, DeliverySchema } from './webhooks.schemas.ts';
import type { WebhooksService } from './webhooks.service.ts';

/**
 * The deliveries of an endpoint: the log, a manual retry, and a test event. The test route has a
 * budget of its own per admin key (`testLimiter`), tighter than the admin API's: each test is a
 * request ShopFlow sends to a URL of the caller's choosing.
 */
export const webhookDeliveriesRoutes: FastifyPluginAsyncZod<{
  service: WebhooksService;
  testLimiter: RateLimiter;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { service, testLimiter }) => {
    app.post(
      '/admin/webhooks/:id/test',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Queue a webhook.test delivery to the endpoint (429 rate_limited past WEBHOOK_TESTS_PER_MINUTE a minute per key)',
          params: IdParams,
          response: { 202: DeliverySchema },
        },
      },
      async (request, reply) => {
        const d = await testLimiter.consume(`key:${request.adminKeyId ?? 'unknown'}`);
        if (!d.allowed)
          throw new AppError('rate_limited', 'rate_limited', 'Too many test events: try again later', {
            retryAfter: d.resetSeconds,
          });
        return reply.status(202).send(await service.test(request.params.id));
      },
    );
    app.get(
      '/admin/webhooks/:id/deliveries',
      {
        schema: {
          tags: ['admin'],
          summary: 'Deliveries of an endpoint, newest first, with every attempt',
          params: IdParams,
          querystring: z
            .object({
              status: z.enum(['pending', 'delivered', 'failed']).optional(),
              limit: LimitSchema,
              cursor: CursorSchema,
            })
            .strict(),
          response: { 200: z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => {
        const { status, limit, cursor } = request.query;
        return service.deliveries(request.params.id, {
          limit,
          ...(status ? { status } : {}),
          ...(cursor ? { cursor } : {}),
        });
      },
    );
    app.post(
      '/admin/webhooks/:id/deliveries/:deliveryId/retry',
      {
        schema: {
          tags: ['admin'],
          summary: 'Send a failed (or waiting) delivery again now',
          params: DeliveryParams,
          response: { 202: DeliverySchema },
        },
      },
      async (request, reply) =>
        reply.status(202).send(await service.retry(request.params.id, request.params.deliveryId)),
    );
  };
