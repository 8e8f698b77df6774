/**
 * The catalog as a CSV file (docs/catalog-import.md): `GET /admin/products/export` streams it,
 * `POST /admin/products/import` takes one (text/csv, at most 20 MB) with a dry run and a
 * partial mode. Both need the `catalog` scope (src/assembly/admin-routes.ts).
 */
import { Readable } from 'node:stream';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../platform/errors.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { streamParts } from '../../http/stream.ts';
import type { CatalogImportService } from './catalog-import.service.ts';

/** Largest CSV body: about 100,000 rows of a typical catalog. */
export const IMPORT_BODY_LIMIT = 20 * 1024 * 1024;
/** Errors listed in an answer; past it, `errorsOmitted` says how many more there were. */
export const MAX_LISTED_ERRORS = 1000;

const flag = z
  .enum(['true', 'false'])
  .default('false')
  .transform((v) => v === 'true');

const ImportError = z.object({ line: z.number().int(), field: z.string().optional(), reason: z.string() });

const ImportReport = z.object({
  dryRun: z.boolean(),
  written: z.boolean(),
  rows: z.number().int(),
  productsCreated: z.number().int(),
  productsUpdated: z.number().int(),
  variantsCreated: z.number().int(),
  variantsUpdated: z.number().int(),
  errors: z.array(ImportError).describe(`At most ${MAX_LISTED_ERRORS}, in line order`),
  errorsOmitted: z.number().int().describe('Errors past the listed ones'),
});

export const catalogFileRoutes: FastifyPluginAsyncZod<{
  files: CatalogImportService;
  imports: RateLimiter;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { files, imports }) => {
    // This context takes CSV only: another body type is 415.
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      ['text/csv', 'application/csv'],
      { parseAs: 'buffer', bodyLimit: IMPORT_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    app.get(
      '/admin/products/export',
      {
        schema: {
          tags: ['admin'],
          summary:
            'The live catalog as CSV, one row per variant (products by handle, variants by position then SKU), streamed',
          produces: ['text/csv'],
        },
      },
      async (_request, reply) =>
        reply
          .type('text/csv; charset=utf-8')
          .header('content-disposition', 'attachment; filename="catalog.csv"')
          .send(await streamParts(files.exportCsv())),
    );
    app.post(
      '/admin/products/import',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
        schema: {
          tags: ['admin'],
          summary:
            'Import a catalog CSV (text/csv, at most 20 MB): upsert by SKU. dryRun validates only; with errors nothing is written (400 import_invalid) unless partial, which writes the good products',
          querystring: z.object({ dryRun: flag, partial: flag }).strict(),
          consumes: ['text/csv'],
          response: { 200: ImportReport },
        },
      },
      async (request) => {
        const d = await imports.consume(`key:${request.adminKeyId ?? 'unknown'}`);
        if (!d.allowed)
          throw new AppError('rate_limited', 'rate_limited', 'Too many catalog imports: try again later', {
            retryAfter: d.resetSeconds,
          });
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        const { dryRun, partial } = request.query;
        const summary = await files.import(() => Readable.from([body]), { dryRun, partial });
        const report = {
          ...summary,
          errors: summary.errors.slice(0, MAX_LISTED_ERRORS),
          errorsOmitted: Math.max(0, summary.errors.length - MAX_LISTED_ERRORS),
        };
        if (!dryRun && !summary.written)
          throw new AppError('invalid', 'import_invalid', 'The file has errors: nothing was written', {
            details: report,
          });
        return report;
      },
    );
  };
