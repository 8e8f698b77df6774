import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { checkReadiness, type HealthCheck } from '../platform/health.ts';
import type { Metrics } from '../platform/metrics.ts';

const DependencySchema = z.object({
  status: z.enum(['ok', 'down']),
  latencyMs: z.number(),
  required: z.boolean(),
  error: z.string().optional(),
});
const ReadySchema = z.object({
  status: z.enum(['ok', 'degraded', 'down']),
  paymentProvider: z.string().describe('The active payment provider: test, none, ...'),
  dependencies: z.record(z.string(), DependencySchema),
});

export const healthRoutes =
  (checks: HealthCheck[], metrics: Metrics, info: { paymentProvider: string }): FastifyPluginAsyncZod =>
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app) => {
    app.get(
      '/health/live',
      {
        schema: {
          tags: ['operations'],
          summary: 'The process answers',
          response: { 200: z.object({ status: z.literal('ok') }) },
        },
      },
      () => ({ status: 'ok' as const }),
    );
    app.get(
      '/health/ready',
      {
        schema: {
          tags: ['operations'],
          summary: 'Per-dependency status; 503 when a required one (the database) is down',
          response: { 200: ReadySchema, 503: ReadySchema },
        },
      },
      async (_request, reply) => {
        const r = await checkReadiness(checks);
        return reply
          .status(r.ready ? 200 : 503)
          .send({ status: r.status, paymentProvider: info.paymentProvider, dependencies: r.dependencies });
      },
    );
    app.get(
      '/metrics',
      { schema: { tags: ['operations'], summary: 'Prometheus metrics', hide: false } },
      async (_request, reply) => {
        const body = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(body);
      },
    );
  };
