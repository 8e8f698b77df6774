import type { Logger } from 'pino';
import type { EventBus } from '../../platform/events/bus.ts';
import type { OutboxRelay } from '../../platform/events/relay.ts';
import { defineJob } from '../../platform/jobs/job.ts';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { emfRecord, gaugeValues, type Metrics } from '../../platform/metrics.ts';
import { routes, type ShopFlowModule } from '../module.ts';

/** The gauges the outbox-lag and backlog alarms of the AWS infrastructure watch. */
export const CLOUDWATCH_METRICS = [
  'shopflow_outbox_pending_events',
  'shopflow_outbox_oldest_pending_seconds',
];

const [PENDING, OLDEST] = CLOUDWATCH_METRICS as [string, string];

const outboxRoutes: FastifyPluginAsyncZod<{ metrics: Metrics }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { metrics }) => {
    app.get(
      '/admin/outbox',
      {
        schema: {
          tags: ['admin'],
          summary: 'The outbox backlog: events not yet published and the age of the oldest',
          response: { 200: z.object({ pending: z.number().int(), oldestPendingSeconds: z.number() }) },
        },
      },
      async () => {
        const v = await gaugeValues(metrics, [PENDING, OLDEST]);
        return { pending: v[PENDING] ?? 0, oldestPendingSeconds: v[OLDEST] ?? 0 };
      },
    );
  };

/**
 * The outbox and the bus as the rest of the system sees them: the broker's health, and the prune
 * job that deletes events published longer ago than the retention.
 */
export function eventsModule(deps: {
  bus: EventBus;
  relay: OutboxRelay;
  retentionDays: number;
  metrics: Metrics;
  logger: Logger;
  /** The `environment` dimension of the CloudWatch metrics (staging, production). */
  metricsEnvironment: string;
}): ShopFlowModule {
  const publish = defineJob({
    name: 'publish-cloudwatch-metrics',
    // CloudWatch's embedded metrics: the AWS infrastructure turns it on (every minute).
    schedule: 'off',
    description:
      'Writes the outbox backlog and lag, backup freshness and job failures as a CloudWatch embedded-metric log line (off unless scheduled: on AWS, every minute)',
    run: async () => {
      // The outbox gauges and every other gauge registered for CloudWatch (backups, job failures).
      const names = deps.metrics.cloudwatch;
      const record = await emfRecord(deps.metrics, names, {
        namespace: 'ShopFlow',
        environment: deps.metricsEnvironment,
      });
      deps.logger.info(record, 'cloudwatch metrics');
      return { published: names.length };
    },
  });
  return {
    name: 'events',
    routes: [routes('admin', outboxRoutes, { metrics: deps.metrics })],
    jobs: [deps.relay.pruneJob({ days: deps.retentionDays }), publish],
    health: [{ name: 'bus', required: false, check: () => deps.bus.ping() }],
  };
}
