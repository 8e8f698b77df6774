import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { createHash, timingSafeEqual } from 'node:crypto';
import { AppError } from '../platform/errors.ts';
import { checkReadiness, type HealthCheck, type Readiness } from '../platform/health.ts';
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

export interface HealthOptions {
  paymentProvider: string;
  /** Resolves a presented admin key; admins see each dependency's error text. */
  authenticateAdmin: (key: string) => Promise<unknown>;
  /** When set, /metrics answers only `Authorization: Bearer <token>`. */
  metricsToken?: string;
  /** How long one round of probes answers every caller. */
  readinessCacheMs?: number;
}

const bearer = (header: unknown): string | undefined =>
  typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;

export const healthRoutes =
  (checks: HealthCheck[], metrics: Metrics, options: HealthOptions): FastifyPluginAsyncZod =>
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app) => {
    // One round of probes at a time, its answer reused for a second: a flood of /health/ready
    // costs the dependencies one probe each per second, not one per request.
    let cached: { at: number; result: Promise<Readiness> } | undefined;
    const readiness = (): Promise<Readiness> => {
      const now = Date.now();
      if (!cached || now - cached.at > (options.readinessCacheMs ?? 1000))
        cached = { at: now, result: checkReadiness(checks) };
      return cached.result;
    };
    const isAdmin = async (header: unknown): Promise<boolean> => {
      const key = bearer(header);
      if (!key?.startsWith('sf_admin_')) return false;
      return options.authenticateAdmin(key).then(
        () => true,
        () => false,
      );
    };

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
          summary:
            'Per-dependency status; 503 when a required one (the database) is down. Error details only for admin keys.',
          response: { 200: ReadySchema, 503: ReadySchema },
        },
      },
      async (request, reply) => {
        const r = await readiness();
        // Errors name hosts and ports: only an admin sees them.
        const detailed = await isAdmin(request.headers.authorization);
        const dependencies = Object.fromEntries(
          Object.entries(r.dependencies).map(([name, d]) => [
            name,
            detailed || d.error === undefined ? d : { ...d, error: 'unavailable' },
          ]),
        );
        return reply
          .status(r.ready ? 200 : 503)
          .send({ status: r.status, paymentProvider: options.paymentProvider, dependencies });
      },
    );
    app.get(
      '/metrics',
      {
        schema: {
          tags: ['operations'],
          summary: 'Prometheus metrics (Authorization: Bearer <METRICS_TOKEN> when one is set)',
          hide: false,
        },
      },
      async (request, reply) => {
        const token = options.metricsToken;
        if (token !== undefined && !sameSecret(bearer(request.headers.authorization) ?? '', token))
          throw AppError.unauthorized('A metrics token is required');
        const body = await metrics.registry.metrics();
        return reply.type(metrics.registry.contentType).send(body);
      },
    );
  };

/** Compares secrets in constant time (of the expected one's length). */
function sameSecret(given: string, expected: string): boolean {
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}
