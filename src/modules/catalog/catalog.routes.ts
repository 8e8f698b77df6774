import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import type { CatalogService } from './catalog.service.ts';
import { CategoryNodeSchema, ProductListQuery, ProductListSchema, ProductSchema } from './catalog.schemas.ts';

export const catalogStoreRoutes =
  (catalog: CatalogService): FastifyPluginAsyncZod =>
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app) => {
    app.get(
      '/store/products',
      {
        schema: {
          tags: ['store'],
          summary: 'List products (newest first, never soft-deleted ones)',
          querystring: ProductListQuery,
          response: { 200: ProductListSchema },
        },
      },
      async (request) => catalog.listProducts(request.query),
    );
    app.get(
      '/store/products/:id',
      {
        schema: {
          tags: ['store'],
          summary: 'One product',
          params: IdParams,
          response: { 200: ProductSchema },
        },
      },
      async (request) => catalog.getProduct(request.params.id),
    );
    app.get(
      '/store/categories',
      {
        schema: {
          tags: ['store'],
          summary: 'The category tree',
          response: { 200: z.object({ items: z.array(CategoryNodeSchema) }) },
        },
      },
      async () => ({ items: await catalog.categoryTree() }),
    );
  };
