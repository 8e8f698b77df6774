import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { IdParams } from '../../http/schemas.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { CartSchema } from '../carts/carts.schemas.ts';
import type { CartCaller } from '../carts/carts.service.ts';
import { AddressInputSchema, BuyerInputSchema } from '../customers/brazil.schemas.ts';
import type { DeliveryService } from './delivery.service.ts';

const OptionSchema = z
  .object({
    id: z.uuid(),
    engine: z.string(),
    carrier: z.string(),
    service: z.string(),
    price: z.number().int().describe('Centavos'),
    deliveryDays: z.object({ min: z.number().int(), max: z.number().int() }),
    expiresAt: z
      .string()
      .describe('Choose it and check out before this; checkout prices an expired one again'),
  })
  .meta({ id: 'ShippingOption' });

/** A cart's delivery: its address, buyer, freight options and the option chosen. */
export const deliveryRoutes: FastifyPluginAsyncZod<{
  delivery: DeliveryService;
  sessions: SessionHelpers;
  /** Freight quotes per session (each may call a carrier's API). */
  quotes: RateLimiter;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { delivery, sessions, quotes }) => {
    const caller = async (request: FastifyRequest, id: string): Promise<CartCaller> => {
      const s = await sessions.current(request);
      if (!s) throw AppError.notFound('Cart', { cartId: id });
      return { sessionId: s.id, customerId: s.customerId };
    };

    app.put(
      '/store/carts/:id/shipping-address',
      {
        schema: {
          tags: ['store'],
          summary:
            "Set the cart's delivery address: an address, or {addressId} from the customer's book (the chosen shipping option is cleared)",
          params: IdParams,
          body: z.union([z.object({ addressId: z.string().min(1).max(200) }).strict(), AddressInputSchema]),
          response: { 200: CartSchema },
        },
      },
      async (request) =>
        delivery.setAddress(await caller(request, request.params.id), request.params.id, request.body),
    );
    app.get(
      '/store/carts/:id/shipping-options',
      {
        schema: {
          tags: ['store'],
          summary:
            'Freight options for the cart as it is now (each with an id and an expiry); an engine that cannot answer is listed in unavailable, 503 when none can',
          params: IdParams,
          response: {
            200: z.object({
              options: z.array(OptionSchema),
              unavailable: z.array(
                z.object({ engine: z.string(), code: z.literal('dependency_unavailable') }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const who = await caller(request, request.params.id);
        // The session's budget is checked while the cart is read; no engine is asked before both.
        const allowed = quotes.consume(`s:${who.sessionId}`).then((d) => {
          if (!d.allowed)
            throw new AppError('rate_limited', 'rate_limited', 'Too many freight quotes: try again later', {
              retryAfter: d.resetSeconds,
            });
        });
        return delivery.options(who, request.params.id, allowed);
      },
    );
    app.put(
      '/store/carts/:id/shipping-method',
      {
        schema: {
          tags: ['store'],
          summary: 'Choose one of the options offered for the cart (by id; its price is the stored one)',
          params: IdParams,
          body: z.object({ optionId: z.string().min(1).max(200) }).strict(),
          response: { 200: CartSchema },
        },
      },
      async (request) =>
        delivery.choose(await caller(request, request.params.id), request.params.id, request.body.optionId),
    );
    app.put(
      '/store/carts/:id/buyer',
      {
        schema: {
          tags: ['store'],
          summary: "Set the cart's buyer: name, email and CPF or CNPJ (check digits validated)",
          params: IdParams,
          body: BuyerInputSchema,
          response: { 200: CartSchema },
        },
      },
      async (request) =>
        delivery.setBuyer(await caller(request, request.params.id), request.params.id, request.body),
    );
  };
