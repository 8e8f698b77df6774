import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { placeIdempotently, type PlacementDeps } from '../../http/idempotent.ts';
import type { Session } from '../auth/session-store.ts';
import type { OrdersService, Owner } from './orders.service.ts';
import type { UploadsService } from '../uploads/uploads.service.ts';
import {
  CustomizationQuery,
  OrderListQuery,
  OrderListSchema,
  OrderSchema,
  PlaceOrderBody,
  TransitionBody,
} from './orders.schemas.ts';

export const ownerOf = (s: Session): Owner =>
  s.customerId ? { customerId: s.customerId } : { guestSessionId: s.id };

export const ordersStoreRoutes =
  (
    orders: OrdersService,
    sessions: SessionHelpers,
    placement: PlacementDeps,
    uploads: UploadsService,
  ): FastifyPluginAsyncZod =>
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app) => {
    app.post(
      '/store/orders',
      {
        schema: {
          tags: ['store'],
          summary: 'Place an order (all or nothing; honours Idempotency-Key)',
          body: PlaceOrderBody,
          headers: z.object({ 'idempotency-key': z.string().optional() }).passthrough(),
          response: { 201: OrderSchema },
        },
      },
      async (request, reply) =>
        placeIdempotently(
          placement,
          request,
          reply,
          { route: 'POST /store/orders', body: request.body },
          async (tx, session) => {
            uploads.assertOwnUploads(ownerOf(session), request.body.items);
            const { order, levels } = await orders.placeInTx(tx, ownerOf(session), request.body.items);
            return { body: order, levels };
          },
          {
            createSession: true,
            direct: async (session) => {
              uploads.assertOwnUploads(ownerOf(session), request.body.items);
              const { order, levels } = await orders.place(ownerOf(session), request.body.items);
              return { body: order, levels };
            },
          },
        ),
    );
    app.get(
      '/store/orders',
      {
        schema: {
          tags: ['store'],
          summary: "The logged-in customer's orders, newest first",
          querystring: OrderListQuery,
          response: { 200: OrderListSchema },
        },
      },
      async (request) => {
        const s = await sessions.requireCustomer(request);
        return orders.list({ ...request.query, customerId: s.customerId });
      },
    );
    app.get(
      '/store/orders/:id',
      {
        schema: {
          tags: ['store'],
          summary: "The caller's own order",
          params: IdParams,
          response: { 200: OrderSchema },
        },
      },
      async (request) => {
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Order', { orderId: request.params.id });
        return orders.getOwned(ownerOf(s), request.params.id);
      },
    );
  };

export const ordersAdminRoutes =
  (orders: OrdersService): FastifyPluginAsyncZod =>
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app) => {
    app.get(
      '/admin/orders',
      {
        schema: {
          tags: ['admin'],
          summary: 'Orders, newest first',
          querystring: OrderListQuery,
          response: { 200: OrderListSchema },
        },
      },
      async (request) => orders.list(request.query),
    );
    app.get(
      '/admin/orders/:id',
      { schema: { tags: ['admin'], summary: 'One order', params: IdParams, response: { 200: OrderSchema } } },
      async (request) => orders.getAdmin(request.params.id),
    );
    app.post(
      '/admin/orders/:id/transition',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Move an order: pending -> confirmed -> shipped -> delivered; cancelled from pending or confirmed',
          params: IdParams,
          body: TransitionBody,
          response: { 200: OrderSchema },
        },
      },
      async (request) => orders.transition(request.params.id, request.body.to),
    );
    app.get(
      '/admin/order-items',
      {
        schema: {
          tags: ['admin'],
          summary: 'Order items whose customization contains a JSON fragment (GIN index)',
          querystring: CustomizationQuery,
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.uuid(),
                  orderId: z.uuid(),
                  productId: z.uuid().nullable(),
                  quantity: z.number().int(),
                  unitPrice: z.number().int(),
                  customization: z.unknown(),
                }),
              ),
            }),
          },
        },
      },
      async (request) => ({
        items: await orders.itemsByCustomization(request.query.customization, request.query.limit),
      }),
    );
  };
