import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import type { Session } from '../../platform/sessions/session-store.ts';
import type { Uploader, UploadsService } from './uploads.service.ts';

export const uploaderOf = (s: Session): Uploader =>
  s.customerId ? { customerId: s.customerId } : { guestSessionId: s.id };

export const uploadsRoutes: FastifyPluginAsyncZod<{ uploads: UploadsService; sessions: SessionHelpers }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { uploads, sessions }) => {
    app.post(
      '/store/uploads',
      {
        schema: {
          tags: ['store'],
          summary:
            'A presigned upload for a customization file, scoped to the caller (creates a guest session if needed)',
          body: z
            .object({
              fileName: z.string().min(1).max(255),
              contentType: z.string().min(3).max(100),
              size: z.number().int().min(1),
            })
            .strict(),
          response: {
            201: z.object({
              key: z.string(),
              expiresAt: z.string(),
              upload: z.object({
                method: z.literal('POST'),
                url: z.string(),
                fields: z.record(z.string(), z.string()),
                expiresAt: z.string(),
              }),
              sessionToken: z.string().optional(),
            }),
          },
        },
      },
      async (request, reply) => {
        const { session, newToken } = await sessions.ensure(request, reply);
        const created = await uploads.create(uploaderOf(session), request.body);
        return reply.status(201).send(newToken ? { ...created, sessionToken: newToken } : created);
      },
    );
    app.get(
      '/store/uploads/*',
      {
        schema: {
          tags: ['store'],
          summary: 'A short-lived URL to read one of your uploads (the key as returned, slashes and all)',
          response: { 200: z.object({ url: z.string(), expiresAt: z.string() }) },
        },
      },
      async (request) => {
        const key = (request.params as { '*': string })['*'];
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Upload');
        return uploads.readUrl(uploaderOf(s), key);
      },
    );
  };
