/**
 * The endpoints behind the local object store's signed URLs (embedded default): downloads, and
 * form uploads whose size and content type are enforced on the actual bytes.
 */
import type { FastifyPluginAsync } from 'fastify';
import type {} from '@fastify/multipart'; // request.parts()
import { AppError } from '../../platform/errors.ts';
import type { LocalObjectStore } from '../../platform/storage/local.object-store.ts';
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
export const localStorageRoutes: FastifyPluginAsync<{ store: LocalObjectStore }> = async (app, { store }) => {
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
        return reply
          .header('content-type', object.contentType)
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
        const fields: Record<string, string> = {};
        let file: { data: Buffer; mimetype: string } | undefined;
        let limit = Number.MAX_SAFE_INTEGER;
        for await (const part of request.parts({
          limits: { files: 1, fields: 10, fileSize: 1_073_741_824 },
        })) {
          if (part.type === 'field') {
            fields[part.fieldname] = String(part.value);
            if (part.fieldname === 'maxBytes') limit = Number(part.value);
            continue;
          }
          // The signed fields come first (as with S3 forms); bytes beyond the signed limit are refused.
          const chunks: Buffer[] = [];
          let size = 0;
          for await (const chunk of part.file) {
            size += (chunk as Buffer).length;
            if (size > limit)
              throw new AppError(
                'too_large',
                'payload_too_large',
                'The file is larger than the upload allows',
              );
            chunks.push(chunk as Buffer);
          }
          file = { data: Buffer.concat(chunks), mimetype: part.mimetype };
        }
        const { bucket = '', key = '', expires = '', maxBytes = '', signature = '' } = fields;
        const contentType = fields['Content-Type'] ?? '';
        const exp = Number(expires);
        if (
          !BUCKETS.includes(bucket as BucketName) ||
          !isSafeKey(key) ||
          !(exp >= Date.now() / 1000) ||
          !store.verify(['POST', bucket, key, contentType, Number(maxBytes), exp], signature)
        ) {
          throw new AppError('forbidden', 'forbidden', 'The upload form is invalid or has expired');
        }
        if (!file || file.data.length === 0)
          throw AppError.invalid('A file is required', [{ field: 'file', message: 'missing' }]);
        if (file.data.length > Number(maxBytes))
          throw new AppError('too_large', 'payload_too_large', 'The file is larger than the upload allows');
        const sniff = SIGNATURES[contentType];
        if (sniff && !sniff(file.data)) {
          throw new AppError('invalid', 'unsupported_media_type', `The file is not ${contentType}`, {
            details: [{ field: 'file', message: 'content does not match its type' }],
          });
        }
        await store.put(bucket as BucketName, key, file.data, { contentType });
        return reply.status(204).send();
      },
    );
  });
};
