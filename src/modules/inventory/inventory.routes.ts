import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, LimitSchema } from '../../http/schemas.ts';
import type { InventoryService } from './inventory.service.ts';

const Level = z.object({
  productId: z.uuid(),
  availableQuantity: z.number().int(),
  reservedQuantity: z.number().int(),
});

export const inventoryAdminRoutes: FastifyPluginAsyncZod<{ inventory: InventoryService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { inventory }) => {
    app.put(
      '/admin/inventory/:productId',
      {
        schema: {
          tags: ['admin'],
          summary: 'Set the units free to sell (restock or correction)',
          params: z.object({ productId: z.string().min(1).max(200) }),
          body: z.object({ availableQuantity: z.number().int().min(0).max(1_000_000_000) }).strict(),
          response: { 200: Level },
        },
      },
      async (request) => inventory.setAvailable(request.params.productId, request.body.availableQuantity),
    );
    app.get(
      '/admin/inventory/low-stock',
      {
        schema: {
          tags: ['admin'],
          summary: 'Live products with fewer than 10 units free, fewest first',
          querystring: z.object({ limit: LimitSchema, cursor: CursorSchema }).strict(),
          response: {
            200: z.object({
              items: z.array(Level.extend({ name: z.string() })),
              nextCursor: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => inventory.lowStock(request.query.limit, request.query.cursor),
    );
  };
