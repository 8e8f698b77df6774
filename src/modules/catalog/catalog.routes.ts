import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, IdParams, LimitSchema, sendJsonText } from '../../http/schemas.ts';
import { parseOptionFilters } from '../../http/option-filter.ts';
import type { CatalogService } from './catalog.service.ts';
import { ADMIN_SORTS, type AdminSort } from './catalog.sql.ts';
import {
  CategoryCreateBody,
  CategoryNodeSchema,
  CategoryPatchBody,
  CategorySchema,
  ProductCreateBody,
  ProductDetailSchema,
  ProductListQuery,
  ProductListSchema,
  ProductPatchBody,
} from './catalog.schemas.ts';

export const catalogStoreRoutes: FastifyPluginAsyncZod<{ catalog: CatalogService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { catalog }) => {
    app.get(
      '/store/products',
      {
        schema: {
          tags: ['store'],
          summary:
            'List products (newest first, never soft-deleted ones); option=Name:Value filters on one variant, with the price range',
          querystring: ProductListQuery,
          response: { 200: ProductListSchema },
        },
      },
      async (request) => {
        const { option, ...rest } = request.query;
        const options = parseOptionFilters(option);
        return catalog.listProducts({ ...rest, ...(options ? { options } : {}) });
      },
    );
    app.get(
      '/store/products/:id',
      {
        schema: {
          tags: ['store'],
          summary: 'One product',
          params: IdParams,
          response: { 200: ProductDetailSchema },
        },
        // The store's hottest route: the id is checked by the service (anything but a UUID is a
        // 404), so the schema documents it without validating it on every request.
        validatorCompiler: () => (value: unknown) => ({ value }),
      },
      // The cached JSON text is sent as is (it was built from ProductDetail when cached). A hit in
      // this process is answered at once, without a promise; anything else goes through the cache.
      (request, reply) => {
        const hit = catalog.peekProductJson(request.params.id);
        if (hit !== undefined) {
          sendJsonText(reply, hit);
          return;
        }
        return catalog.getProductJson(request.params.id).then((json) => {
          sendJsonText(reply, json);
        });
      },
    );
    app.get(
      '/store/products/by-slug/:slug',
      {
        schema: {
          tags: ['store'],
          summary: 'One product by its slug',
          params: z.object({ slug: z.string().min(1).max(255) }),
          response: { 200: ProductDetailSchema },
        },
      },
      async (request) => catalog.getProductBySlug(request.params.slug),
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

/** Products: list, create, change, soft delete and restore (their variants: ./variants.routes.ts). */
export const catalogAdminRoutes: FastifyPluginAsyncZod<{ catalog: CatalogService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { catalog }) => {
    app.get(
      '/admin/products',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Live products: q matches part of the name (case and accents ignored), categoryId its subtree; sorted newest first, by name or by price',
          querystring: z
            .object({
              q: z.string().trim().min(1).max(100).optional(),
              categoryId: z.uuid().optional(),
              sort: z.enum(Object.keys(ADMIN_SORTS) as [AdminSort, ...AdminSort[]]).default('newest'),
              limit: LimitSchema,
              cursor: CursorSchema,
            })
            .strict(),
          response: { 200: ProductListSchema },
        },
      },
      async (request) => catalog.adminList(request.query),
    );
    app.post(
      '/admin/products',
      {
        schema: {
          tags: ['admin'],
          summary: 'Create a product (with its initial stock)',
          body: ProductCreateBody,
          response: { 201: ProductDetailSchema },
        },
      },
      async (request, reply) => reply.status(201).send(await catalog.createProduct(request.body)),
    );
    app.patch(
      '/admin/products/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Update a product',
          params: IdParams,
          body: ProductPatchBody,
          response: { 200: ProductDetailSchema },
        },
      },
      async (request) => catalog.updateProduct(request.params.id, request.body),
    );
    app.delete(
      '/admin/products/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Soft-delete a product (kept for order history)',
          params: IdParams,
        },
      },
      async (request, reply) => {
        await catalog.deleteProduct(request.params.id);
        return reply.status(204).send();
      },
    );
    app.get(
      '/admin/products/deleted',
      {
        schema: {
          tags: ['admin'],
          summary: 'Soft-deleted products, most recently deleted first (restore with POST .../restore)',
          querystring: z.object({ limit: LimitSchema, cursor: CursorSchema }).strict(),
          response: {
            200: z.object({
              items: z.array(z.object({ id: z.uuid(), name: z.string(), deletedAt: z.string() })),
              nextCursor: z.string().nullable(),
            }),
          },
        },
      },
      async (request) => catalog.deletedProducts(request.query.limit, request.query.cursor),
    );
    app.post(
      '/admin/products/:id/restore',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Bring a soft-deleted product back to the store and search (409 while its category is deleted)',
          params: IdParams,
          response: { 200: ProductDetailSchema },
        },
      },
      async (request) => catalog.restoreProduct(request.params.id),
    );
  };

/** Categories: a tree, soft-deleted and restored like products. */
export const categoryAdminRoutes: FastifyPluginAsyncZod<{ catalog: CatalogService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { catalog }) => {
    app.get(
      '/admin/categories/deleted',
      {
        schema: {
          tags: ['admin'],
          summary: 'Soft-deleted categories, most recently deleted first',
          response: { 200: z.object({ items: z.array(CategorySchema.extend({ deletedAt: z.string() })) }) },
        },
      },
      async () => ({ items: await catalog.deletedCategories() }),
    );
    app.delete(
      '/admin/categories/:id',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Soft-delete an empty category (409 category_not_empty while it holds live sub-categories or products)',
          params: IdParams,
        },
      },
      async (request, reply) => {
        await catalog.deleteCategory(request.params.id);
        return reply.status(204).send();
      },
    );
    app.post(
      '/admin/categories/:id/restore',
      {
        schema: {
          tags: ['admin'],
          summary: 'Bring a soft-deleted category back (409 while its parent is deleted)',
          params: IdParams,
          response: { 200: CategorySchema },
        },
      },
      async (request) => catalog.restoreCategory(request.params.id),
    );
    app.post(
      '/admin/categories',
      {
        schema: {
          tags: ['admin'],
          summary: 'Create a category',
          body: CategoryCreateBody,
          response: { 201: CategorySchema },
        },
      },
      async (request, reply) => reply.status(201).send(await catalog.createCategory(request.body)),
    );
    app.patch(
      '/admin/categories/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'Rename or move a category',
          params: IdParams,
          body: CategoryPatchBody,
          response: { 200: CategorySchema },
        },
      },
      async (request) => catalog.updateCategory(request.params.id, request.body),
    );
  };
