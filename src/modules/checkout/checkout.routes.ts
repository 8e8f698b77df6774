import { z } from 'zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import { inputLocation, toHttpError } from '../../http/error-handler.ts';
import { clientAddress } from '../../http/client-address.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import type { ErrorToResponse } from '../idempotency/idempotency.service.ts';
import { OrderSchema, PlaceOrderBody } from '../orders/orders.schemas.ts';
import { BuyerInputSchema } from '../customers/brazil.schemas.ts';
import type { CheckoutCaller, CheckoutResult, CheckoutService } from './checkout.service.ts';

const KEY = /^[\x21-\x7e]{1,255}$/;
const KeyHeader = z.object({ 'idempotency-key': z.string().optional() }).passthrough();

/** The Idempotency-Key header, when present and well formed; 400 when malformed. */
function idempotencyKey(request: FastifyRequest): string | undefined {
  const raw = request.headers['idempotency-key'];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !KEY.test(raw)) {
    throw AppError.invalid('Idempotency-Key must be 1 to 255 visible ASCII characters', [
      { field: 'headers.idempotency-key', message: 'invalid' },
    ]);
  }
  return raw;
}

/** Client errors are this request's answer and are replayed for its key; throttling and auth are not. */
const replayable =
  (request: FastifyRequest): ErrorToResponse =>
  (error) => {
    const mapped = toHttpError(error, request.id, inputLocation(request.method));
    return mapped.status >= 400 && mapped.status < 500 && mapped.status !== 401 && mapped.status !== 429
      ? { status: mapped.status, body: mapped.body }
      : undefined;
  };

export const checkoutRoutes: FastifyPluginAsyncZod<{ checkout: CheckoutService; sessions: SessionHelpers }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { checkout, sessions }) => {
    const caller = async (request: FastifyRequest): Promise<CheckoutCaller> => ({
      session: await sessions.current(request),
      address: clientAddress(request),
    });
    const send = (reply: FastifyReply, result: CheckoutResult): FastifyReply => {
      if (result.replayed) void reply.header('idempotent-replayed', 'true');
      if (!result.sessionToken) return reply.status(201).send(result.order);
      sessions.setCookie(reply, result.sessionToken);
      return reply.status(201).send({ ...result.order, sessionToken: result.sessionToken });
    };

    app.post(
      '/store/orders',
      {
        schema: {
          tags: ['store'],
          summary: 'Place an order (all or nothing; honours Idempotency-Key)',
          body: PlaceOrderBody,
          headers: KeyHeader,
          response: { 201: OrderSchema },
        },
      },
      async (request, reply) => {
        const key = idempotencyKey(request);
        const result = await checkout.placeOrder({
          caller: await caller(request),
          ...(key === undefined ? {} : { key }),
          fingerprint: { route: 'POST /store/orders', body: request.body },
          replayable: replayable(request),
          lines: request.body.items,
        });
        return send(reply, result);
      },
    );

    app.post(
      '/store/carts/:id/checkout',
      {
        schema: {
          tags: ['store'],
          summary:
            'Place the order from the cart (same rules as POST /store/orders; honours Idempotency-Key): with its shipping address, chosen freight (409 shipping_required without one; an expired quote is priced again) and buyer (a guest gives it here or on the cart)',
          params: IdParams,
          headers: KeyHeader,
          body: z.object({ buyer: BuyerInputSchema.optional() }).strict().nullish(),
          response: { 201: OrderSchema },
        },
      },
      async (request, reply) => {
        const key = idempotencyKey(request);
        const result = await checkout.checkoutCart({
          caller: await caller(request),
          ...(key === undefined ? {} : { key }),
          fingerprint: {
            route: 'POST /store/carts/:id/checkout',
            cartId: request.params.id,
            ...(request.body?.buyer ? { buyer: request.body.buyer } : {}),
          },
          replayable: replayable(request),
          cartId: request.params.id,
          ...(request.body?.buyer ? { buyer: request.body.buyer } : {}),
        });
        return send(reply, result);
      },
    );
  };
