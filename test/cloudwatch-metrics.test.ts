/**
 * The outbox gauges reach CloudWatch as embedded-metric log lines (the AWS infrastructure alarms on
 * them): the job writes one line with the backlog and the age of the oldest waiting event, the
 * backup freshness gauges and the job failures of the last hour.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';
import { capturedLogger } from './helpers/log-sink.ts';

describe('publish-cloudwatch-metrics', () => {
  let db: TestDatabase;
  let app: App;
  const { logger, lines } = capturedLogger();
  beforeAll(async () => {
    db = await createTestDatabase();
    app = await createApp(
      loadConfig({ DATABASE_URL: db.url, PAYMENT_PROVIDER: 'test', METRICS_ENVIRONMENT: 'staging' }),
      { logger },
    );
  });
  afterAll(async () => {
    await app?.close();
    await db?.drop();
  });

  it('is off unless scheduled, and writes the outbox backlog and lag in embedded metric format', async () => {
    const job = (await app.jobs.list()).find((j) => j.name === 'publish-cloudwatch-metrics');
    expect(job?.schedule).toBeNull();
    expect(
      loadConfig({ CRON_PUBLISH_CLOUDWATCH_METRICS: '* * * * *' }).jobs.scheduleOverrides[
        'publish-cloudwatch-metrics'
      ],
    ).toBe('* * * * *');
    // Two events waiting (no relay runs here), the older five minutes old.
    await db.pool.query(
      `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, created_at)
       VALUES ('order', 'o1', 'order.placed', '{}', NOW() - interval '5 minutes'),
              ('order', 'o2', 'order.placed', '{}', NOW())`,
    );
    const run = await app.jobs.run('publish-cloudwatch-metrics', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    const record = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .find((r) => r._aws !== undefined) as {
      _aws: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
      environment: string;
      shopflow_outbox_pending_events: number;
      shopflow_outbox_oldest_pending_seconds: number;
    };
    expect(record._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: 'ShopFlow',
      Dimensions: [['environment']],
    });
    expect(record._aws.CloudWatchMetrics[0]!.Metrics.map((m) => m.Name).sort()).toEqual([
      'shopflow_backup_newest_age_seconds',
      'shopflow_backup_newest_verified_age_seconds',
      'shopflow_job_failures_last_hour',
      'shopflow_outbox_oldest_pending_seconds',
      'shopflow_outbox_pending_events',
    ]);
    expect(record.environment).toBe('staging');
    expect(record.shopflow_outbox_pending_events).toBe(2);
    expect(record.shopflow_outbox_oldest_pending_seconds).toBeGreaterThanOrEqual(299);
  });
});
