/**
 * The endpoints behind the local object store's signed URLs (embedded default): downloads, and
 * form uploads whose size and content type are enforced on the actual bytes.
 */
import type { FastifyPluginAsync } from 'fastify';
import type {} from '@fastify/multipart'; // request.parts()
import { AppError } from '../../platform/errors.ts';
import {
  ObjectRejected,
  ObjectTooLarge,
  type LocalObjectStore,
} from '../../platform/storage/local.object-store.ts';
import type { BucketName } from '../../platform/storage/object-store.ts';
import { isSafeKey } from '../../platform/storage/object-store.ts';

const BUCKETS: BucketName[] = ['productImages', 'userUploads', 'invoices', 'archive', 'backups'];

/** Magic numbers of the types we accept: the bytes must be what the form says they are. */
const SIGNATURES: Record<string, (b: Buffer) => boolean> = {
  'image/png': (b) => b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (b) => b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff,
  'image/webp': (b) =>
    b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP',
  'application/pdf': (b) => b.subarray(0, 5).toString('latin1') === '%PDF-',
};

/** Needs @fastify/multipart in its context (the module declares it). */
export const localStorageRoutes: FastifyPluginAsync<{
  store: LocalObjectStore;
  /** UPLOAD_MAX_BYTES: no form upload is larger, whatever its signature says. */
  maxBytes: number;
}> = async (app, { store, maxBytes }) => {
  // eslint-disable-next-line @typescript-eslint/require-await
  await app.register(async (scope) => {
    scope.get<{
      Params: { bucket: string; '*': string };
      Querystring: { expires?: string; signature?: string };
    }>(
      '/storage/:bucket/*',
      {
        schema: {
          tags: ['storage'],
          summary:
            'Local object store only: download through a signed URL (?expires=&signature=) that the API handed out',
        },
      },
      async (request, reply) => {
        const { bucket } = request.params;
        const key = request.params['*'];
        const expires = Number(request.query.expires);
        const fresh = Number.isInteger(expires) && expires >= Date.now() / 1000;
        if (
          !BUCKETS.includes(bucket as BucketName) ||
          !isSafeKey(key) ||
          !fresh ||
          !store.verify(['GET', bucket, key, expires], request.query.signature ?? '')
        ) {
          throw new AppError('forbidden', 'forbidden', 'The link is invalid or has expired');
        }
        const object = await store.get(bucket as BucketName, key);
        if (!object) throw AppError.notFound('Object');
        // Private files (uploads, invoices) download as attachments and are never sniffed: a
        // browser must not render a customer's file in our origin.
        if (bucket !== 'productImages') void reply.header('content-disposition', 'attachment');
        return reply
          .header('content-type', object.contentType)
          .header('x-content-type-options', 'nosniff')
          .header('etag', object.etag)
          .header('cache-control', 'private, max-age=60')
          .send(object.body);
      },
    );

    scope.post(
      '/storage/upload',
      {
        schema: {
          tags: ['storage'],
          summary:
            'Local object store only: the form upload of a presigned POST (multipart: the signed fields, then the file)',
        },
      },
      async (request, reply) => {
        // The signed fields come first (as in an S3 form). They are checked when the file part
        // begins, before any of its bytes are read; the file then streams to disk under the smaller
        // of the signed size and UPLOAD_MAX_BYTES, never held whole in memory.
        const fields: Record<string, string> = {};
        let stored = false;
        for await (const part of request.parts({
          limits: { files: 1, fields: 10, fileSize: maxBytes + 1 },
        })) {
          if (part.type === 'field') {
            fields[part.fieldname] = String(part.value);
            continue;
          }
          const { bucket = '', key = '', expires = '', signature = '' } = fields;
          const signedMax = Number(fields.maxBytes ?? '');
          const contentType = fields['Content-Type'] ?? '';
          const exp = Number(expires);
          if (
            !BUCKETS.includes(bucket as BucketName) ||
            !isSafeKey(key) ||
            !(exp >= Date.now() / 1000) ||
            !store.verify(['POST', bucket, key, contentType, signedMax, exp], signature)
          ) {
            // Close the connection after answering rather than reading the rest of the body.
            void reply.header('connection', 'close');
            throw new AppError('forbidden', 'forbidden', 'The upload form is invalid or has expired');
          }
          const sniff = SIGNATURES[contentType];
          try {
            const { size } = await store.putStream(bucket as BucketName, key, part.file, {
              contentType,
              maxBytes: Math.min(signedMax, maxBytes),
              ...(sniff ? { accept: sniff } : {}),
            });
            if (size === 0) {
              await store.delete(bucket as BucketName, key);
              throw AppError.invalid('A file is required', [{ field: 'file', message: 'empty' }]);
            }
          } catch (error) {
            if (error instanceof ObjectTooLarge) {
              void reply.header('connection', 'close');
              throw new AppError(
                'too_large',
                'payload_too_large',
                'The file is larger than the upload allows',
              );
            }
            if (error instanceof ObjectRejected)
              throw new AppError('invalid', 'unsupported_media_type', `The file is not ${contentType}`, {
                details: [{ field: 'file', message: 'content does not match its type' }],
              });
            throw error;
          }
          stored = true;
        }
        if (!stored) throw AppError.invalid('A file is required', [{ field: 'file', message: 'missing' }]);
        return reply.status(204).send();
      },
    );
  });
};
