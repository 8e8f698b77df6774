import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { IdParams } from '../../http/schemas.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import { CustomizationSchema } from '../orders/orders.schemas.ts';
import type { CartCaller, CartsService } from './carts.service.ts';
import { CartSchema } from './carts.schemas.ts';
import type { UploadsService } from '../uploads/uploads.service.ts';

const ItemParams = z.object({ id: z.string().min(1).max(200), itemId: z.string().min(1).max(200) });
const quantity = z.number().int().min(1).max(10_000);

/** Carts and their lines. Checking a cart out is the checkout module's. */
export const cartsRoutes: FastifyPluginAsyncZod<{
  carts: CartsService;
  sessions: SessionHelpers;
  uploads: UploadsService;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { carts, sessions, uploads }) => {
    /** Cart calls need a session; without one, the cart is not theirs: 404. */
    const caller = async (request: FastifyRequest, id: string): Promise<CartCaller> => {
      const s = await sessions.current(request);
      if (!s) throw AppError.notFound('Cart', { cartId: id });
      return { sessionId: s.id, customerId: s.customerId };
    };

    app.post(
      '/store/carts',
      {
        schema: {
          tags: ['store'],
          summary: 'Create a cart (creates a guest session when there is none)',
          response: { 201: CartSchema },
        },
      },
      async (request, reply) => {
        const { session, newToken } = await sessions.ensure(request, reply);
        const cart = await carts.create({ sessionId: session.id, customerId: session.customerId });
        return reply.status(201).send(newToken ? { ...cart, sessionToken: newToken } : cart);
      },
    );
    app.get(
      '/store/carts/:id',
      {
        schema: {
          tags: ['store'],
          summary: 'A cart with its lines and totals',
          params: IdParams,
          response: { 200: CartSchema },
        },
      },
      async (request) => carts.get(await caller(request, request.params.id), request.params.id),
    );
    app.post(
      '/store/carts/:id/items',
      {
        schema: {
          tags: ['store'],
          summary: 'Add a line',
          params: IdParams,
          body: z
            .object({
              variantId: z.uuid().optional().describe('The variant added'),
              productId: z
                .uuid()
                .optional()
                .describe('A one-variant product (else 400 variant_required); with variantId, its product'),
              quantity,
              customization: CustomizationSchema,
            })
            .strict()
            .refine((l) => l.variantId !== undefined || l.productId !== undefined, {
              message: 'a line names a variantId or a productId',
              path: ['variantId'],
            }),
          response: { 200: CartSchema },
        },
      },
      async (request) => {
        const who = await caller(request, request.params.id);
        const owner = who.customerId ? { customerId: who.customerId } : { guestSessionId: who.sessionId };
        uploads.assertOwnUploads(owner, [request.body]);
        return carts.addItem(who, request.params.id, request.body);
      },
    );
    app.patch(
      '/store/carts/:id/items/:itemId',
      {
        schema: {
          tags: ['store'],
          summary: 'Change the quantity of a line',
          params: ItemParams,
          body: z.object({ quantity }).strict(),
          response: { 200: CartSchema },
        },
      },
      async (request) =>
        carts.updateItem(
          await caller(request, request.params.id),
          request.params.id,
          request.params.itemId,
          request.body.quantity,
        ),
    );
    app.delete(
      '/store/carts/:id/items/:itemId',
      {
        schema: {
          tags: ['store'],
          summary: 'Remove a line',
          params: ItemParams,
          response: { 200: CartSchema },
        },
      },
      async (request) =>
        carts.removeItem(await caller(request, request.params.id), request.params.id, request.params.itemId),
    );
  };
