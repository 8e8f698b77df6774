import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import type { CartCaller, CartsService } from './carts.service.ts';
import { CartSchema } from './carts.schemas.ts';

/** Codes as typed: letters, digits and dashes (a bulk code is `PREFIX-XXXXXXXXXX`). */
const Code = z
  .string()
  .trim()
  .min(1)
  .max(64)
  .regex(/^[A-Za-z0-9_-]+$/, 'letters, digits, - and _');
const Params = z.object({ id: z.string().min(1).max(200) });

/**
 * Promotion codes on a cart. Applying one is rate-limited per session and per client address: a
 * shared code (`BLACKFRIDAY`) can be guessed, so guessing must be slow.
 */
export const cartPromotionsRoutes: FastifyPluginAsyncZod<{
  carts: CartsService;
  sessions: SessionHelpers;
  /** Code attempts per session, and per client address. */
  attempts: { perSession: RateLimiter; perAddress: RateLimiter };
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { carts, sessions, attempts }) => {
    const caller = async (request: FastifyRequest, id: string): Promise<CartCaller> => {
      const s = await sessions.current(request);
      if (!s) throw AppError.notFound('Cart', { cartId: id });
      return { sessionId: s.id, customerId: s.customerId };
    };

    app.post(
      '/store/carts/:id/promotions',
      {
        schema: {
          tags: ['store'],
          summary:
            'Apply a promotion code (404 promotion_not_found; 409 promotion_expired, promotion_exhausted, promotion_not_applicable with the reason)',
          params: Params,
          body: z.object({ code: Code }).strict(),
          response: { 200: CartSchema },
        },
      },
      async (request) => {
        const who = await caller(request, request.params.id);
        for (const [limiter, key] of [
          [attempts.perSession, `s:${who.sessionId}`],
          [attempts.perAddress, `a:${request.ip}`],
        ] as const) {
          const d = await limiter.consume(key);
          if (!d.allowed)
            throw new AppError(
              'rate_limited',
              'rate_limited',
              'Too many promotion codes tried: try again later',
              {
                retryAfter: d.resetSeconds,
              },
            );
        }
        return carts.applyCode(who, request.params.id, request.body.code);
      },
    );
    app.delete(
      '/store/carts/:id/promotions/:code',
      {
        schema: {
          tags: ['store'],
          summary: 'Take a promotion code off the cart (404 promotion_not_found when it is not on it)',
          params: Params.extend({ code: Code }),
          response: { 200: CartSchema },
        },
      },
      async (request) =>
        carts.removeCode(await caller(request, request.params.id), request.params.id, request.params.code),
    );
  };
