import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { IdParams } from '../../http/schemas.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import { ownerOf } from '../orders/orders.service.ts';
import type { InvoicesService } from './invoices.service.ts';

export const invoicesRoutes: FastifyPluginAsyncZod<{ invoices: InvoicesService; sessions: SessionHelpers }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { invoices, sessions }) => {
    app.get(
      '/store/orders/:id/invoice',
      {
        schema: {
          tags: ['store'],
          summary:
            "A short-lived download URL of the order's invoice PDF (owner only); 202 while it is generated",
          params: IdParams,
          response: {
            200: z.object({ url: z.string(), expiresAt: z.string() }),
            202: z.object({ status: z.literal('pending') }),
          },
        },
      },
      async (request, reply) => {
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Order', { orderId: request.params.id });
        const r = await invoices.link(ownerOf(s), request.params.id);
        if (r.status === 'pending')
          return reply
            .status(202)
            .header('retry-after', '2')
            .send({ status: 'pending' as const });
        return { url: r.url, expiresAt: r.expiresAt };
      },
    );
  };
