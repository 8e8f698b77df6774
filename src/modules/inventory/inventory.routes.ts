import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, LimitSchema } from '../../http/schemas.ts';
import type { InventoryService } from './inventory.service.ts';

const Level = z.object({
  productId: z.uuid(),
  availableQuantity: z.number().int().describe("The product's free units over all its variants"),
  reservedQuantity: z.number().int(),
  variants: z
    .array(
      z.object({
        variantId: z.uuid(),
        availableQuantity: z.number().int(),
        reservedQuantity: z.number().int(),
      }),
    )
    .describe('The variant(s) changed'),
});
const SetBody = z
  .object({
    availableQuantity: z.number().int().min(0).max(1_000_000_000),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Why (restock, count correction, damage...): kept in the audit log'),
  })
  .strict();

export const inventoryAdminRoutes: FastifyPluginAsyncZod<{ inventory: InventoryService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { inventory }) => {
    app.put(
      '/admin/inventory/:productId',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Set the units free to sell of a one-variant product (restock or correction); 409 variant_required for a product with several',
          params: z.object({ productId: z.string().min(1).max(200) }),
          body: SetBody,
          response: { 200: Level },
        },
      },
      async (request) => {
        const { availableQuantity, reason } = request.body;
        const level = await inventory.setAvailable(request.params.productId, availableQuantity);
        request.auditDetails = { availableQuantity, ...(reason ? { reason } : {}) };
        return level;
      },
    );
    app.put(
      '/admin/inventory/variants/:variantId',
      {
        schema: {
          tags: ['admin'],
          summary: 'Set the units free to sell of one variant (restock or correction)',
          params: z.object({ variantId: z.string().min(1).max(200) }),
          body: SetBody,
          response: { 200: Level },
        },
      },
      async (request) => {
        const { availableQuantity, reason } = request.body;
        const level = await inventory.setVariantAvailable(request.params.variantId, availableQuantity);
        request.auditDetails = { availableQuantity, ...(reason ? { reason } : {}) };
        return level;
      },
    );
    const DriftReport = z.object({
      total: z.number().int().describe('Products whose reserved units differ from what open orders hold'),
      drift: z
        .array(
          z.object({
            productId: z.uuid(),
            variantId: z.uuid(),
            reservedQuantity: z.number().int(),
            expectedReserved: z.number().int(),
          }),
        )
        .describe('The first 100 of them'),
      fixed: z.boolean(),
    });
    const report = ({ drift, fixed }: { drift: z.infer<typeof DriftReport>['drift']; fixed: boolean }) => ({
      total: drift.length,
      drift: drift.slice(0, 100),
      fixed,
    });
    app.get(
      '/admin/inventory/reconcile',
      {
        schema: {
          tags: ['admin'],
          summary: 'Compare reserved units with what open orders hold (a report: nothing changes)',
          response: { 200: DriftReport },
        },
      },
      async () => report(await inventory.reconcile({ fix: false })),
    );
    app.post(
      '/admin/inventory/reconcile',
      {
        schema: {
          tags: ['admin'],
          summary: 'Repair reserved units from open orders (stock movements wait for the moment it takes)',
          response: { 200: DriftReport },
        },
      },
      async () => report(await inventory.reconcile({ fix: true })),
    );
    app.get(
      '/admin/inventory/low-stock',
      {
        schema: {
          tags: ['admin'],
          summary: 'Live variants with fewer than 10 units free, fewest first',
          querystring: z.object({ limit: LimitSchema, cursor: CursorSchema }).strict(),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  productId: z.uuid(),
                  variantId: z.uuid(),
                  sku: z.string(),
                  name: z.string(),
                  availableQuantity: z.number().int(),
                  reservedQuantity: z.number().int(),
                }),
              ),
              nextCursor: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => inventory.lowStock(request.query.limit, request.query.cursor),
    );
  };
