/** Prometheus metrics: one registry per app instance (no global state), served at /metrics. */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type pg from 'pg';

export interface Metrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status'>;
  counter(name: string, help: string, labelNames?: string[]): Counter;
  /** The single-valued gauges the publish-cloudwatch-metrics job sends to CloudWatch (alarms read them). */
  cloudwatch: string[];
}

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'shopflow_' });
  const httpDuration = new Histogram({
    name: 'shopflow_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const counters = new Map<string, Counter>();
  return {
    registry,
    httpDuration,
    cloudwatch: [],
    counter(name, help, labelNames = []) {
      let c = counters.get(name);
      if (!c) {
        c = new Counter({ name, help, labelNames, registers: [registry] });
        counters.set(name, c);
      }
      return c;
    },
  };
}

/** Exposes pool usage (total, idle, waiting clients) of each named pool. */
export function registerPoolMetrics(metrics: Metrics, pools: Record<string, pg.Pool>): void {
  const gauge = (name: string, help: string, read: (p: pg.Pool) => number) =>
    new Gauge({
      name,
      help,
      labelNames: ['pool'],
      registers: [metrics.registry],
      collect() {
        for (const [label, pool] of Object.entries(pools)) this.set({ pool: label }, read(pool));
      },
    });
  gauge('shopflow_db_pool_clients', 'Clients open in the pool', (p) => p.totalCount);
  gauge('shopflow_db_pool_idle', 'Idle clients in the pool', (p) => p.idleCount);
  gauge('shopflow_db_pool_waiting', 'Queries waiting for a client', (p) => p.waitingCount);
}

/**
 * The outbox backlog, read when metrics are scraped: events waiting for the relay and the age of
 * the oldest. A backlog that grows means the broker or the worker is away; the API keeps working
 * meanwhile. A database that does not answer within a second leaves the last values in place.
 */
export function registerOutboxMetrics(metrics: Metrics, pool: pg.Pool): void {
  let last = { pending: 0, oldest: 0 };
  let reading: Promise<void> | undefined;
  const read = async () => {
    reading ??= (async () => {
      try {
        const result = await Promise.race([
          pool.query<{ pending: number; oldest: number | null }>(
            `SELECT COUNT(*)::int AS pending, EXTRACT(EPOCH FROM NOW() - MIN(created_at))::float8 AS oldest
             FROM outbox WHERE published_at IS NULL`,
          ),
          new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000).unref()),
        ]);
        const row = result.rows[0];
        last = { pending: row?.pending ?? 0, oldest: row?.oldest ?? 0 };
      } catch {
        // keep the last values
      } finally {
        reading = undefined;
      }
    })();
    await reading;
  };
  metrics.cloudwatch.push('shopflow_outbox_pending_events', 'shopflow_outbox_oldest_pending_seconds');
  new Gauge({
    name: 'shopflow_outbox_pending_events',
    help: 'Events in the outbox not yet published',
    registers: [metrics.registry],
    async collect() {
      await read();
      this.set(last.pending);
    },
  });
  new Gauge({
    name: 'shopflow_outbox_oldest_pending_seconds',
    help: 'Age of the oldest event not yet published (0 when none)',
    registers: [metrics.registry],
    async collect() {
      await read();
      this.set(last.oldest);
    },
  });
}

/**
 * Backup freshness, read when collected: the age of the newest backup (the hourly job stopped when
 * it grows past an hour) and of the newest one restored and verified. A backup that does not exist
 * counts from the process start, so a store that never backed up shows its age too.
 */
export function registerBackupMetrics(
  metrics: Metrics,
  read: () => Promise<{ newest?: Date; newestVerified?: Date }>,
): void {
  const started = Date.now();
  const age = (d: Date | undefined) => Math.max(0, (Date.now() - (d?.getTime() ?? started)) / 1000);
  const gauge = (
    name: string,
    help: string,
    pick: (f: { newest?: Date; newestVerified?: Date }) => Date | undefined,
  ) =>
    new Gauge({
      name,
      help,
      registers: [metrics.registry],
      async collect() {
        try {
          this.set(age(pick(await read())));
        } catch {
          // storage unreachable: keep the last value
        }
      },
    });
  gauge('shopflow_backup_newest_age_seconds', 'Age of the newest backup', (f) => f.newest);
  gauge(
    'shopflow_backup_newest_verified_age_seconds',
    'Age of the newest verified backup',
    (f) => f.newestVerified,
  );
  metrics.cloudwatch.push(
    'shopflow_backup_newest_age_seconds',
    'shopflow_backup_newest_verified_age_seconds',
  );
}

/** Scheduled job runs that failed in the last hour (any job), for the job-failures alarm. */
export function registerJobFailureMetrics(metrics: Metrics, pool: pg.Pool): void {
  new Gauge({
    name: 'shopflow_job_failures_last_hour',
    help: 'Job runs that failed in the last hour',
    registers: [metrics.registry],
    async collect() {
      try {
        const { rows } = await pool.query<{ n: number }>(
          "SELECT COUNT(*)::int AS n FROM job_runs WHERE status = 'failed' AND finished_at > NOW() - interval '1 hour'",
        );
        this.set(rows[0]?.n ?? 0);
      } catch {
        // keep the last value
      }
    },
  });
  metrics.cloudwatch.push('shopflow_job_failures_last_hour');
}

/** The current value of each named single-valued gauge that exists (collected now). */
export async function gaugeValues(metrics: Metrics, names: string[]): Promise<Record<string, number>> {
  const values: Record<string, number> = {};
  for (const name of names) {
    const metric = metrics.registry.getSingleMetric(name);
    if (!metric) continue;
    const { values: samples } = await metric.get();
    values[name] = samples[0]?.value ?? 0;
  }
  return values;
}

/**
 * A CloudWatch embedded-metric-format record of the named gauges' current values: written as one
 * JSON log line, CloudWatch Logs turns it into metrics (namespace `namespace`, one dimension
 * `environment`) with no agent and no API call.
 */
export async function emfRecord(
  metrics: Metrics,
  names: string[],
  options: { namespace: string; environment: string },
): Promise<Record<string, unknown>> {
  const values = await gaugeValues(metrics, names);
  return {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [
        {
          Namespace: options.namespace,
          Dimensions: [['environment']],
          Metrics: Object.keys(values).map((Name) => ({
            Name,
            Unit: Name.endsWith('_seconds') ? 'Seconds' : 'Count',
          })),
        },
      ],
    },
    environment: options.environment,
    ...values,
  };
}
