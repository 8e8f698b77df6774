import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditService } from './audit.service.ts';

const Text = z.string().min(1).max(200);

export const auditAdminRoutes: FastifyPluginAsyncZod<{ audit: AuditService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { audit }) => {
    app.get(
      '/admin/audit',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Admin changes, newest first: who (key), what (route), target, outcome; never the values sent',
          querystring: z
            .object({
              limit: z.coerce.number().int().min(1).max(200).default(50),
              before: z.coerce.number().int().min(1).optional(),
              targetType: Text.optional(),
              targetId: Text.optional(),
              action: Text.optional(),
            })
            .strict(),
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  id: z.number().int(),
                  at: z.string(),
                  actorKeyId: z.string().nullable(),
                  actorName: z.string(),
                  action: z.string(),
                  targetType: z.string().nullable(),
                  targetId: z.string().nullable(),
                  status: z.number().int(),
                  requestId: z.string().nullable(),
                  details: z.record(z.string(), z.unknown()).nullable(),
                }),
              ),
              nextBefore: z.number().int().nullable(),
            }),
          },
        },
      },
      async (request) => {
        const items = await audit.list(request.query);
        return {
          items,
          nextBefore: items.length === request.query.limit ? items[items.length - 1]!.id : null,
        };
      },
    );
  };
