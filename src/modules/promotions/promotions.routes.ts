import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CursorSchema, IdParams, LimitSchema } from '../../http/schemas.ts';
import { streamParts } from '../../http/stream.ts';
import { MAX_CODES_PER_REQUEST, type PromotionsService } from './promotions.service.ts';

const Ids = z.array(z.uuid()).max(1000).optional();
const Instant = z.iso.datetime({ offset: true });

const PromotionFieldsSchema = z.object({
  name: z.string().trim().min(1).max(200),
  code: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9_-]{3,64}$/, 'letters, digits, - and _, 3 to 64')
    .nullable(),
  automatic: z.boolean(),
  kind: z.enum(['percentage', 'fixed', 'free_shipping']),
  /** percentage: 1-100; fixed: centavos. */
  value: z.number().int().min(0).max(100_000_000),
  perLine: z.boolean(),
  appliesTo: z.object({ productIds: Ids, categoryIds: Ids, variantIds: Ids }).strict().nullable(),
  minSubtotal: z.number().int().min(0).max(2_147_483_647),
  firstOrderOnly: z.boolean(),
  startsAt: Instant.nullable(),
  endsAt: Instant.nullable(),
  usageLimit: z.number().int().min(1).max(2_147_483_647).nullable(),
  usageLimitPerCustomer: z.number().int().min(1).max(1_000_000).nullable(),
  combinable: z.boolean(),
});

const PromotionSchema = PromotionFieldsSchema.extend({
  id: z.uuid(),
  code: z.string().nullable(),
  appliesTo: z
    .object({
      productIds: z.array(z.string()).optional(),
      categoryIds: z.array(z.string()).optional(),
      variantIds: z.array(z.string()).optional(),
    })
    .nullable(),
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
  used: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Promotion' });

const Page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().nullable() });
const PageQuery = z.object({ limit: LimitSchema, cursor: CursorSchema }).strict();

export const promotionsAdminRoutes: FastifyPluginAsyncZod<{ promotions: PromotionsService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { promotions }) => {
    app.post(
      '/admin/promotions',
      {
        schema: {
          tags: ['promotions'],
          summary: 'Create a promotion (percentage, fixed amount or free shipping; by code or automatic)',
          body: PromotionFieldsSchema.partial().required({ name: true, kind: true }).strict(),
          response: { 201: PromotionSchema },
        },
      },
      async (request, reply) => reply.status(201).send(await promotions.create(request.body)),
    );
    app.get(
      '/admin/promotions',
      {
        schema: {
          tags: ['promotions'],
          summary: 'Live promotions, newest first',
          querystring: PageQuery,
          response: { 200: Page(PromotionSchema) },
        },
      },
      async (request) => promotions.list(request.query.limit, request.query.cursor),
    );
    app.get(
      '/admin/promotions/:id',
      {
        schema: {
          tags: ['promotions'],
          summary: 'One promotion',
          params: IdParams,
          response: { 200: PromotionSchema },
        },
      },
      async (request) => promotions.get(request.params.id),
    );
    app.patch(
      '/admin/promotions/:id',
      {
        schema: {
          tags: ['promotions'],
          summary: 'Change a promotion (the fields sent; `code: null` removes its shared code)',
          params: IdParams,
          body: PromotionFieldsSchema.partial().strict(),
          response: { 200: PromotionSchema },
        },
      },
      async (request) => promotions.update(request.params.id, request.body),
    );
    app.delete(
      '/admin/promotions/:id',
      {
        schema: {
          tags: ['promotions'],
          summary: 'End a promotion (soft delete: its redemptions stay with their orders)',
          params: IdParams,
        },
      },
      async (request, reply) => {
        await promotions.remove(request.params.id);
        return reply.status(204).send();
      },
    );
  };

/** Codes and redemptions of a promotion. */
export const promotionCodesAdminRoutes: FastifyPluginAsyncZod<{ promotions: PromotionsService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { promotions }) => {
    app.post(
      '/admin/promotions/:id/codes',
      {
        schema: {
          tags: ['promotions'],
          summary: `Generate unique single-use codes in bulk (up to ${MAX_CODES_PER_REQUEST.toLocaleString('en')} a request)`,
          params: IdParams,
          body: z
            .object({
              count: z.number().int().min(1).max(MAX_CODES_PER_REQUEST),
              prefix: z
                .string()
                .regex(/^[A-Za-z0-9]{1,16}$/, 'letters and digits, 1 to 16')
                .optional(),
            })
            .strict(),
          response: { 201: z.object({ generated: z.number().int() }) },
        },
      },
      async (request, reply) =>
        reply
          .status(201)
          .send({ generated: await promotions.generateCodes(request.params.id, request.body) }),
    );
    app.get(
      '/admin/promotions/:id/codes',
      {
        schema: {
          tags: ['promotions'],
          summary: "A promotion's single-use codes, oldest first, with the order each is on",
          params: IdParams,
          querystring: PageQuery,
          response: {
            200: Page(
              z.object({
                code: z.string(),
                redeemed: z.boolean(),
                orderId: z.string().nullable(),
                createdAt: z.string(),
              }),
            ),
          },
        },
      },
      async (request) => promotions.codes(request.params.id, request.query.limit, request.query.cursor),
    );
    app.get(
      '/admin/promotions/:id/codes/export',
      {
        schema: {
          tags: ['promotions'],
          summary:
            'Every single-use code of a promotion as CSV (code, redeemed, order_id, created_at), streamed',
          params: IdParams,
          produces: ['text/csv'],
        },
      },
      async (request, reply) =>
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', `attachment; filename="promotion-codes.csv"`)
          .send(await streamParts(promotions.exportCodes(request.params.id))),
    );
    app.get(
      '/admin/promotions/:id/redemptions',
      {
        schema: {
          tags: ['promotions'],
          summary: "A promotion's redemptions, newest first (released ones say when)",
          params: IdParams,
          querystring: PageQuery,
          response: {
            200: Page(
              z.object({
                orderId: z.string(),
                code: z.string().nullable(),
                customerId: z.string().nullable().describe('null for a guest'),
                amount: z.number().int(),
                releasedAt: z.string().nullable(),
                createdAt: z.string(),
              }),
            ),
          },
        },
      },
      async (request) => promotions.redemptions(request.params.id, request.query.limit, request.query.cursor),
    );
  };
