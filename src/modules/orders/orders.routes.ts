import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { ownerOf, TRANSITIONS, type OrdersService } from './orders.service.ts';
import {
  AdminOrderListQuery,
  CustomizationQuery,
  FulfillBody,
  HistoryEntrySchema,
  OrderListQuery,
  OrdersOverviewSchema,
  OrderListSchema,
  OrderPaymentSchema,
  OrderSchema,
  TransitionBody,
} from './orders.schemas.ts';

/** The caller's own orders. Placing one is the checkout module's. */
export const ordersStoreRoutes: FastifyPluginAsyncZod<{ orders: OrdersService; sessions: SessionHelpers }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { orders, sessions }) => {
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
          response: { 200: OrderSchema.extend({ payment: OrderPaymentSchema.nullable() }) },
        },
      },
      async (request) => {
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Order', { orderId: request.params.id });
        return orders.withPayment(await orders.getOwned(ownerOf(s), request.params.id));
      },
    );
  };

export const ordersAdminRoutes: FastifyPluginAsyncZod<{ orders: OrdersService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { orders }) => {
    app.get(
      '/admin/orders',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Orders, newest first: by status, customer and creation time (from inclusive, to exclusive)',
          querystring: AdminOrderListQuery,
          response: { 200: OrderListSchema },
        },
      },
      async (request) => orders.list(request.query),
    );
    app.get(
      '/admin/orders/:id',
      {
        schema: {
          tags: ['admin'],
          summary: 'One order, with the moves an admin may make from its status (POST .../transition)',
          params: IdParams,
          response: {
            200: OrderSchema.extend({
              payment: OrderPaymentSchema.nullable(),
              transitions: z
                .array(TransitionBody.shape.to)
                .describe('The statuses POST /admin/orders/:id/transition accepts from this one'),
            }),
          },
        },
      },
      async (request) => {
        const order = await orders.withPayment(await orders.getAdminDetail(request.params.id));
        const manual: readonly string[] = TransitionBody.shape.to.options;
        return {
          ...order,
          transitions: TRANSITIONS[order.status].filter((s): s is z.infer<typeof TransitionBody>['to'] =>
            manual.includes(s),
          ),
        };
      },
    );
    app.post(
      '/admin/orders/:id/transition',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Move an order: pending -> confirmed -> shipped -> delivered; cancelled from pending or confirmed (a paid order is then refunded through its payment provider; refunded follows once the money is back)',
          params: IdParams,
          body: TransitionBody,
          response: { 200: OrderSchema },
        },
      },
      async (request) =>
        orders.transition(request.params.id, request.body.to, {
          type: 'admin',
          name: request.adminKeyName ?? null,
        }),
    );
    app.post(
      '/admin/orders/:id/fulfillments',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Ship units of a confirmed order with a carrier and tracking code (all units left, or `items` for a partial shipment); the order is shipped when every unit is',
          params: IdParams,
          body: FulfillBody,
          response: { 201: OrderSchema },
        },
      },
      async (request, reply) =>
        reply.status(201).send(
          await orders.fulfil(request.params.id, request.body, {
            type: 'admin',
            name: request.adminKeyName ?? null,
          }),
        ),
    );
    app.get(
      '/admin/orders/:id/events',
      {
        schema: {
          tags: ['admin'],
          summary:
            "The order's history, oldest first: status changes, payments, refunds, fulfilments, with actors",
          params: IdParams,
          response: { 200: z.object({ items: z.array(HistoryEntrySchema) }) },
        },
      },
      async (request) => ({ items: await orders.events(request.params.id) }),
    );
  };

/** Reports over orders: sales per variant, the dashboard's figures, lines by customization. */
export const orderReportsRoutes: FastifyPluginAsyncZod<{ orders: OrdersService; timeZone: string }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { orders, timeZone }) => {
    app.get(
      '/admin/stats/products/:id/variants',
      {
        schema: {
          tags: ['admin'],
          summary:
            "One product's sales per variant (live from its order lines; cancelled and refunded orders not counted)",
          params: IdParams,
          response: {
            200: z.object({
              productId: z.uuid(),
              items: z.array(
                z.object({
                  variantId: z.uuid(),
                  sku: z.string().nullable().describe('As last sold (null for lines from before variants)'),
                  totalOrders: z.number().int(),
                  totalSold: z.number().int(),
                  revenue: z.number().int().describe('Integer centavos'),
                }),
              ),
            }),
          },
        },
      },
      async (request) => orders.variantSales(request.params.id),
    );
    app.get(
      '/admin/orders/overview',
      {
        schema: {
          tags: ['admin'],
          summary: "The dashboard's order figures: per minute over the last hour, today's orders and revenue",
          response: { 200: OrdersOverviewSchema },
        },
      },
      async () => orders.overview(timeZone),
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
