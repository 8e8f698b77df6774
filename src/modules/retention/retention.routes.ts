import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JobRunner } from '../../platform/jobs/runner.ts';

export const retentionAdminRoutes: FastifyPluginAsyncZod<{ jobs: JobRunner }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { jobs }) => {
    app.post(
      '/admin/retention/run',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Queue every retention job now (the jobs with a retention step, in order); follow them at GET /admin/jobs/runs',
          response: {
            202: z.object({ queued: z.array(z.object({ job: z.string(), queueJobId: z.string() })) }),
          },
        },
      },
      async (_request, reply) => {
        const queued = [];
        for (const job of jobs.retentionJobs()) queued.push({ job, queueJobId: await jobs.enqueue(job) });
        return reply.status(202).send({ queued });
      },
    );
  };
