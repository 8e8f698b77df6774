import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, IdParams, LimitSchema } from '../../http/schemas.ts';
import type { SessionHelpers } from '../../http/session.ts';
import type { ReviewsService } from './reviews.service.ts';

const ReviewSchema = z
  .object({
    id: z.uuid(),
    productId: z.uuid(),
    rating: z.number().int(),
    body: z.string().nullable(),
    verifiedPurchase: z.boolean().describe('The author received the product (a delivered order held it)'),
    createdAt: z.string(),
  })
  .meta({ id: 'Review' });

export const reviewsRoutes: FastifyPluginAsyncZod<{ reviews: ReviewsService; sessions: SessionHelpers }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { reviews, sessions }) => {
    app.post(
      '/store/products/:id/reviews',
      {
        schema: {
          tags: ['store'],
          summary: 'Review a product (logged-in customers, once per product)',
          params: IdParams,
          body: z
            .object({
              rating: z.number().int().min(1).max(5),
              body: z.string().trim().max(5000).nullable().optional(),
            })
            .strict(),
          response: { 201: ReviewSchema },
        },
      },
      async (request, reply) => {
        const s = await sessions.requireCustomer(request);
        return reply.status(201).send(await reviews.create(s.customerId, request.params.id, request.body));
      },
    );
    app.get(
      '/store/products/:id/reviews',
      {
        schema: {
          tags: ['store'],
          summary: "A product's reviews, newest first",
          params: IdParams,
          querystring: z.object({ limit: LimitSchema, cursor: CursorSchema }).strict(),
          response: { 200: z.object({ items: z.array(ReviewSchema), nextCursor: z.string().nullable() }) },
        },
      },
      async (request) => reviews.list(request.params.id, request.query.limit, request.query.cursor),
    );
  };
