import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SessionHelpers } from '../../http/session.ts';
import type { ArchiveService } from './archive.service.ts';

export const archiveStoreRoutes: FastifyPluginAsyncZod<{
  archive: ArchiveService;
  sessions: SessionHelpers;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { archive, sessions }) => {
    app.get(
      '/store/orders/archived',
      {
        schema: {
          tags: ['store'],
          summary:
            'My orders moved to the archive (older than the retention): date, status and total, newest first',
          querystring: z.object({ limit: z.coerce.number().int().min(1).max(100).default(50) }).strict(),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.uuid(),
                  status: z.string(),
                  totalAmount: z.number().int(),
                  currency: z.string(),
                  createdAt: z.string(),
                  archivedAt: z.string(),
                }),
              ),
            }),
          },
        },
      },
      async (request) => {
        const me = await sessions.requireCustomer(request);
        return { items: await archive.ofCustomer(me.customerId, request.query.limit) };
      },
    );
  };
