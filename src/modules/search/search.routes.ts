import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { AppError } from '../../platform/errors.ts';
import { OptionFilterParam, parseOptionFilters } from '../../http/option-filter.ts';
import { ProductSchema } from '../catalog/catalog.schemas.ts';
import type { SearchService } from './search.service.ts';

const price = z.coerce.number().int().min(0).max(2_147_483_647);

const SearchQuerySchema = z
  .object({
    q: z.string().max(200).default(''),
    categoryId: z.uuid().optional(),
    minPrice: price.optional(),
    maxPrice: price.optional(),
    tags: z
      .string()
      .max(500)
      .transform((s) =>
        s
          .split(',')
          .map((t) => t.trim().toLowerCase())
          .filter(Boolean),
      )
      .optional(),
    option: OptionFilterParam.optional(),
    facets: z
      .enum(['true', 'false'])
      .transform((v) => v === 'true')
      .optional()
      .describe('true: the answer carries facets (option value counts, price span)'),
    page: z.coerce.number().int().min(1).max(500).default(1),
    size: z.coerce.number().int().min(1).max(100).default(20),
  })
  .strict();

const FacetsSchema = z
  .object({
    options: z.array(
      z.object({
        name: z.string(),
        values: z.array(z.object({ value: z.string(), count: z.number().int() })),
      }),
    ),
    price: z.object({ min: z.number().int(), max: z.number().int() }).nullable(),
    exact: z.boolean(),
  })
  .describe(
    "Per option, its values with the number of matching products having a variant with it (counted without that option's own filter); the variant price span without the price filter",
  )
  .meta({ id: 'SearchFacets' });

interface ReindexJob {
  id: string;
  status: 'running' | 'done' | 'failed';
  done: number;
  total: number;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

export const searchStoreRoutes: FastifyPluginAsyncZod<{ search: SearchService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { search }) => {
    app.get(
      '/store/search',
      {
        schema: {
          tags: ['store'],
          summary:
            'Full-text, typo-tolerant, accent-insensitive search; relevance then popularity. Filters on option values and variant prices (on one variant); facets on request',
          querystring: SearchQuerySchema,
          response: {
            200: z.object({
              items: z.array(ProductSchema),
              total: z.number().int(),
              totalIsExact: z.boolean(),
              page: z.number().int(),
              size: z.number().int(),
              facets: FacetsSchema.optional(),
            }),
          },
        },
      },
      async (request) => {
        const { tags, option, facets, ...rest } = request.query;
        const options = parseOptionFilters(option);
        return search.search({
          ...rest,
          ...(tags?.length ? { tags } : {}),
          ...(options ? { options } : {}),
          ...(facets ? { facets } : {}),
        });
      },
    );
    app.get(
      '/store/search/suggest',
      {
        schema: {
          tags: ['store'],
          summary: 'Up to 5 autocomplete suggestions (prefix, typo-tolerant)',
          querystring: z.object({ q: z.string().min(1).max(100) }).strict(),
          response: {
            200: z.object({ suggestions: z.array(z.object({ text: z.string(), productId: z.uuid() })) }),
          },
        },
      },
      async (request) => search.suggest(request.query.q),
    );
  };

export const searchAdminRoutes: FastifyPluginAsyncZod<{ search: SearchService; logger: Logger }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { search, logger }) => {
    const jobs = new Map<string, ReindexJob>();
    const JobSchema = z.object({
      id: z.string(),
      status: z.enum(['running', 'done', 'failed']),
      done: z.number().int(),
      total: z.number().int(),
      startedAt: z.string(),
      finishedAt: z.string().optional(),
      error: z.string().optional(),
    });
    app.post(
      '/admin/search/reindex',
      {
        schema: {
          tags: ['admin'],
          summary: 'Start a zero-downtime reindex; 202 with a job id',
          response: { 202: z.object({ jobId: z.string() }) },
        },
      },
      async (_request, reply) => {
        if ([...jobs.values()].some((j) => j.status === 'running'))
          throw AppError.conflict('reindex_running', 'A reindex is already running');
        const job: ReindexJob = {
          id: randomUUID(),
          status: 'running',
          done: 0,
          total: 0,
          startedAt: new Date().toISOString(),
        };
        jobs.set(job.id, job);
        search
          .reindex({ onProgress: (p) => Object.assign(job, p) })
          .then(() => Object.assign(job, { status: 'done', finishedAt: new Date().toISOString() }))
          .catch((err: unknown) => {
            logger.error({ err }, 'reindex failed');
            Object.assign(job, {
              status: 'failed',
              finishedAt: new Date().toISOString(),
              error: err instanceof Error ? err.message : 'failed',
            });
          });
        return reply.status(202).send({ jobId: job.id });
      },
    );
    app.get(
      '/admin/search/reindex/:jobId',
      {
        schema: {
          tags: ['admin'],
          summary: 'Progress of a reindex',
          params: z.object({ jobId: z.string().max(100) }),
          response: { 200: JobSchema },
        },
      },
      (request) => {
        const job = jobs.get(request.params.jobId);
        if (!job) throw AppError.notFound('Reindex job');
        return job;
      },
    );
  };
