import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, LimitSchema } from '../../http/schemas.ts';
import type { StatsService } from './stats.service.ts';

export const statsAdminRoutes: FastifyPluginAsyncZod<{ stats: StatsService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { stats }) => {
    app.get(
      '/admin/stats/products',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Per-product stats from the product_stats materialized view (cancelled orders not counted)',
          querystring: z.object({ limit: LimitSchema, cursor: CursorSchema }).strict(),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  productId: z.uuid(),
                  name: z.string(),
                  totalOrders: z.number().int(),
                  totalSold: z.number().int(),
                  avgRating: z.number().nullable(),
                  reviewCount: z.number().int(),
                  popularityScore: z.number(),
                }),
              ),
              nextCursor: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => stats.list(request.query.limit, request.query.cursor),
    );
    app.post(
      '/admin/stats/refresh',
      {
        schema: {
          tags: ['admin'],
          summary: 'Refresh product_stats now; answers when done',
          response: { 200: z.object({ refreshedAt: z.string(), durationMs: z.number() }) },
        },
      },
      async () => stats.refresh(),
    );
  };
