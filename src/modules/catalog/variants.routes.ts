/**
 * The admin's routes for a product's variants once it exists: add one (a combination of option
 * values not sold yet, with its stock), change one, soft-delete one; and its options (replaced
 * whole, the live variants following). Mounted beside the product
 * routes of ./catalog.routes.ts under the `catalog` scope (src/assembly/admin-routes.ts); the work
 * is CatalogService's (./variants.service.ts).
 */
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import type { CatalogService } from './catalog.service.ts';
import { OptionsEditBody, ProductDetailSchema, VariantBody, VariantPatchBody } from './catalog.schemas.ts';

/** Variants: add, change and soft delete; options: replace. */
export const variantAdminRoutes: FastifyPluginAsyncZod<{ catalog: CatalogService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { catalog }) => {
    app.post(
      '/admin/products/:id/variants',
      {
        schema: {
          tags: ['admin'],
          summary: 'Add a variant (a combination of option values not sold yet) with its stock',
          params: IdParams,
          body: VariantBody,
          response: { 201: ProductDetailSchema },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await catalog.addVariant(request.params.id, request.body)),
    );
    app.put(
      '/admin/products/:id/options',
      {
        schema: {
          tags: ['admin'],
          summary:
            "Replace a product's options: add, rename, reorder or remove values and options (live variants follow; 409 option_value_in_use or duplicate)",
          params: IdParams,
          body: OptionsEditBody,
          response: { 200: ProductDetailSchema },
        },
      },
      async (request) => {
        const { product, summary } = await catalog.editOptions(request.params.id, request.body.options);
        request.auditDetails = summary;
        return product;
      },
    );
    app.patch(
      '/admin/variants/:id',
      {
        schema: {
          tags: ['admin'],
          summary: "Change a variant's SKU, price, codes, measures or position (placed orders keep theirs)",
          params: IdParams,
          body: VariantPatchBody,
          response: { 200: ProductDetailSchema },
        },
      },
      async (request) => catalog.updateVariant(request.params.id, request.body),
    );
    app.delete(
      '/admin/variants/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Soft-delete a variant (kept for order history; a product keeps at least one)',
          params: IdParams,
        },
      },
      async (request, reply) => {
        await catalog.deleteVariant(request.params.id);
        return reply.status(204).send();
      },
    );
  };
