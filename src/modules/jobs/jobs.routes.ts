import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { AppError } from '../../platform/errors.ts';
import type { JobRunner } from '../../platform/jobs/runner.ts';

const JobName = z.string().regex(/^[a-z][a-z0-9-]{1,60}$/);

export const JobRunSchema = z.object({
  id: z.number().int(),
  job: z.string(),
  trigger: z.enum(['schedule', 'cli', 'api']),
  status: z
    .enum(['running', 'succeeded', 'failed', 'skipped', 'interrupted'])
    .describe('interrupted: stopped with its process (or its heartbeat stopped two minutes ago)'),
  attempt: z.number().int(),
  worker: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  progress: z
    .object({ done: z.number(), total: z.number().optional(), unit: z.string().optional() })
    .nullable(),
  result: z.record(z.string(), z.unknown()).nullable().describe('counts reported by the job'),
  error: z.string().nullable(),
});

export const jobsAdminRoutes: FastifyPluginAsyncZod<{ jobs: JobRunner }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { jobs }) => {
    app.get(
      '/admin/jobs',
      {
        schema: {
          tags: ['admin'],
          summary: 'Every job: its schedule (cron, UTC), next run and last run',
          response: {
            200: z.object({
              items: z.array(
                z.object({
                  name: z.string(),
                  description: z.string(),
                  schedule: z.string().nullable(),
                  nextRunAt: z.string().nullable(),
                  lastRun: JobRunSchema.nullable(),
                }),
              ),
            }),
          },
        },
      },
      async () => ({ items: await jobs.list() }),
    );
    app.get(
      '/admin/jobs/runs',
      {
        schema: {
          tags: ['admin'],
          summary: 'Job runs, newest first (all jobs, or one); `before` is the last id of the previous page',
          querystring: z
            .object({
              job: JobName.optional(),
              limit: z.coerce.number().int().min(1).max(200).default(50),
              before: z.coerce.number().int().min(1).optional(),
            })
            .strict(),
          response: {
            200: z.object({ items: z.array(JobRunSchema), nextBefore: z.number().int().nullable() }),
          },
        },
      },
      async (request) => {
        const { job, limit, before } = request.query;
        const items = await jobs.history({ limit, ...(job ? { job } : {}), ...(before ? { before } : {}) });
        return { items, nextBefore: items.length === limit ? items[items.length - 1]!.id : null };
      },
    );
    app.post(
      '/admin/jobs/:name/run',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Queue a run now; a worker takes it within seconds (see GET /admin/jobs/runs). 202 with the queue id',
          params: z.object({ name: JobName }),
          response: { 202: z.object({ job: z.string(), queueJobId: z.string() }) },
        },
      },
      async (request, reply) => {
        const { name } = request.params;
        if (!jobs.has(name)) throw AppError.notFound('Job', { job: name });
        return reply.status(202).send({ job: name, queueJobId: await jobs.enqueue(name) });
      },
    );
  };
