import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type {} from '@fastify/multipart';
import { IdParams } from '../../http/schemas.ts';
import { AppError } from '../../platform/errors.ts';
import { SIZES, type ImageSize, type MediaService } from './media.service.ts';

const Urls = z.object({ thumbnail: z.string(), medium: z.string(), large: z.string() });

export const mediaPublicRoutes: FastifyPluginAsyncZod<{ media: MediaService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { media }) => {
    app.get(
      '/images/*',
      {
        schema: {
          tags: ['store'],
          summary: 'A product image resized on the fly (CDN origin): ?size=thumbnail|medium|large',
          querystring: z.object({ size: z.enum(Object.keys(SIZES) as [ImageSize, ...ImageSize[]]) }).strict(),
        },
      },
      async (request, reply) => {
        const key = (request.params as { '*': string })['*'];
        const webp = /image\/webp/.test(request.headers.accept ?? '');
        const r = await media.rendition(key, request.query.size, webp);
        void reply
          .header('cache-control', 'public, max-age=31536000, immutable')
          .header('etag', r.etag)
          .header('vary', 'Accept')
          .header('content-type', r.contentType);
        if (request.headers['if-none-match'] === r.etag) return reply.status(304).send();
        return reply.send(r.body);
      },
    );
  };

export const mediaAdminRoutes: FastifyPluginAsyncZod<{ media: MediaService; maxBytes: number }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { media, maxBytes }) => {
    app.post(
      '/admin/products/:id/images',
      {
        schema: {
          tags: ['admin'],
          summary: 'Upload a product image (multipart field `file`)',
          params: IdParams,
          consumes: ['multipart/form-data'],
          response: { 201: z.object({ id: z.uuid(), key: z.string(), urls: Urls }) },
        },
      },
      async (request, reply) => {
        if (!request.isMultipart())
          throw AppError.invalid('Send multipart/form-data with a `file` field', [
            { field: 'file', message: 'missing' },
          ]);
        const part = await request.file({ limits: { fileSize: maxBytes, files: 1 } });
        if (!part || part.fieldname !== 'file')
          throw AppError.invalid('A `file` field is required', [{ field: 'file', message: 'missing' }]);
        const data = await part.toBuffer().catch((e: unknown) => {
          if ((e as { code?: string }).code === 'FST_REQ_FILE_TOO_LARGE')
            throw new AppError('too_large', 'payload_too_large', `Images are limited to ${maxBytes} bytes`);
          throw e;
        });
        return reply.status(201).send(await media.addProductImage(request.params.id, data));
      },
    );
    app.post(
      '/admin/products/:id/images/uploads',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Start a direct upload of a product image: a presigned form POST (send its fields, then the file) to the object store; then POST .../images/uploaded with the key',
          params: IdParams,
          body: z
            .object({
              contentType: z.string().min(3).max(100),
              size: z.number().int().min(1).max(1_000_000_000),
            })
            .strict(),
          response: {
            201: z.object({
              key: z.string(),
              upload: z.object({
                method: z.literal('POST'),
                url: z.string(),
                fields: z.record(z.string(), z.string()),
                expiresAt: z.string(),
              }),
            }),
          },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await media.presignImageUpload(request.params.id, request.body, maxBytes)),
    );
    app.post(
      '/admin/products/:id/images/uploaded',
      {
        schema: {
          tags: ['admin'],
          summary:
            'File a directly uploaded image under the product (checked like any image; its renditions follow)',
          params: IdParams,
          body: z.object({ key: z.string().min(1).max(300) }).strict(),
          response: { 201: z.object({ id: z.uuid(), key: z.string(), urls: Urls }) },
        },
      },
      async (request, reply) =>
        reply.status(201).send(await media.addUploadedImage(request.params.id, request.body.key)),
    );
  };
