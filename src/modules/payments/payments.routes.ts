import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams, LimitSchema } from '../../http/schemas.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import { OrderSchema } from '../orders/orders.schemas.ts';
import { ownerOf } from '../orders/orders.service.ts';
import type { PaymentsService } from './payments.service.ts';

const AttemptSchema = z
  .object({
    id: z.uuid(),
    orderId: z.uuid(),
    provider: z.string(),
    providerReference: z.string().nullable(),
    status: z.enum(['pending', 'succeeded', 'failed', 'refund_required']),
    amount: z.number().int(),
    currency: z.string(),
    failureReason: z.string().nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'PaymentAttempt' });

export const paymentsStoreRoutes: FastifyPluginAsyncZod<{
  payments: PaymentsService;
  sessions: SessionHelpers;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { payments, sessions }) => {
    app.post(
      '/store/orders/:id/payments',
      {
        schema: {
          tags: ['store'],
          summary:
            'Pay a pending order; success confirms it, a refusal is 402 payment_failed (the attempt is kept)',
          params: IdParams,
          body: z.object({ paymentMethod: z.string().min(1).max(255) }).strict(),
          response: { 201: z.object({ attempt: AttemptSchema, order: OrderSchema }) },
        },
      },
      async (request, reply) => {
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Order', { orderId: request.params.id });
        const result = await payments.pay(ownerOf(s), request.params.id, request.body.paymentMethod);
        if (result.attempt.status === 'failed') {
          throw new AppError('payment_required', 'payment_failed', 'The payment was refused', {
            details: { attemptId: result.attempt.id, reason: result.attempt.failureReason },
          });
        }
        return reply.status(201).send(result);
      },
    );
  };

export const paymentsAdminRoutes: FastifyPluginAsyncZod<{ payments: PaymentsService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { payments }) => {
    app.get(
      '/admin/orders/:id/payments',
      {
        schema: {
          tags: ['admin'],
          summary: "An order's payment attempts",
          params: IdParams,
          response: { 200: z.object({ items: z.array(AttemptSchema) }) },
        },
      },
      async (request) => ({ items: await payments.list(request.params.id) }),
    );
    app.get(
      '/admin/payments/attention',
      {
        schema: {
          tags: ['admin'],
          summary: 'Payments that need a person: money taken for an order that could not be confirmed',
          querystring: z.object({ limit: LimitSchema }).strict(),
          response: { 200: z.object({ items: z.array(AttemptSchema) }) },
        },
      },
      async (request) => ({ items: await payments.attention(request.query.limit) }),
    );
  };
