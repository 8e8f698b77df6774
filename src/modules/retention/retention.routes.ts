import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JobRunner } from '../../platform/jobs/runner.ts';

/** The jobs that apply the retention rules, in the order `retention run` runs them. */
export const RETENTION_JOBS = [
  'archive-orders',
  'purge-guest-carts',
  'purge-customer-carts',
  'expire-uploads',
  'purge-failed-payments',
  'expire-transient-rows',
] as const;

export const retentionAdminRoutes: FastifyPluginAsyncZod<{ jobs: JobRunner }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { jobs }) => {
    app.post(
      '/admin/retention/run',
      {
        schema: {
          tags: ['admin'],
          summary: `Queue every retention job now (${RETENTION_JOBS.join(', ')}); follow them at GET /admin/jobs/runs`,
          response: {
            202: z.object({ queued: z.array(z.object({ job: z.string(), queueJobId: z.string() })) }),
          },
        },
      },
      async (_request, reply) => {
        const queued = [];
        for (const job of RETENTION_JOBS) queued.push({ job, queueJobId: await jobs.enqueue(job) });
        return reply.status(202).send({ queued });
      },
    );
  };
