/**
 * Backup freshness reaches CloudWatch (the BackupAge and VerifiedBackupAge alarms read it): the
 * age of the newest backup and of the newest verified one, published by the
 * publish-cloudwatch-metrics job. A backup job that stops makes the age pass its threshold; here
 * the threshold is one second instead of the stack's 2 h 10 min.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ALARMS } from '../infra/lib/alarms.ts';
import { BackupService } from '../src/modules/backup/backup.service.ts';
import { gaugeValues } from '../src/platform/metrics.ts';
import { createTestApp, type TestApp } from './app.ts';
import { eventually } from './helpers/eventually.ts';

const NEWEST = 'shopflow_backup_newest_age_seconds';
const VERIFIED = 'shopflow_backup_newest_verified_age_seconds';
const SHORT_THRESHOLD_SECONDS = 1;

describe('backup freshness metric', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());

  it('grows past a short threshold once backups stop, and the CloudWatch job publishes it', async () => {
    const age = async () => (await gaugeValues(t.app.metrics, [NEWEST, VERIFIED]))[NEWEST]!;
    await t.app.services.backup.create();
    // Just taken: under the threshold.
    expect(await age()).toBeLessThan(SHORT_THRESHOLD_SECONDS);
    await t.app.services.backup.verify();
    const verifiedAge = (await gaugeValues(t.app.metrics, [VERIFIED]))[VERIFIED]!;
    expect(verifiedAge).toBeLessThan(60);
    // The backup job stops (nothing creates another): the age passes the threshold.
    await eventually(async () => expect(await age()).toBeGreaterThan(SHORT_THRESHOLD_SECONDS), {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    const run = await t.app.jobs.run('publish-cloudwatch-metrics', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    expect(t.app.metrics.cloudwatch).toEqual(
      expect.arrayContaining([NEWEST, VERIFIED, 'shopflow_job_failures_last_hour']),
    );
    // Every app metric an alarm of the stack reads is one the job publishes.
    for (const a of APP_ALARMS) expect(t.app.metrics.cloudwatch).toContain(a.metric);
  });

  it('prune keeps the newest BACKUP_RETENTION_COUNT backups whatever their age', async () => {
    // Four backups from long ago (the backup job stopped a year ago): past any age limit.
    const ids = [
      '20250101T000000Z-00000a',
      '20250102T000000Z-00000b',
      '20250103T000000Z-00000c',
      '20250104T000000Z-00000d',
    ];
    for (const [i, id] of ids.entries())
      await t.app.objects.put(
        'backups',
        `backups/${id}/manifest.json`,
        Buffer.from(
          JSON.stringify({ id, createdAt: `2025-01-0${i + 1}T00:00:00.000Z`, counts: {}, samples: {} }),
        ),
        { contentType: 'application/json' },
      );
    const before = (await t.app.services.backup.list()).map((b) => b.id);
    const pruning = new BackupService({
      db: t.app.db,
      databaseUrl: t.db.url,
      objects: t.app.objects,
      searchPath: process.env.PATH ?? '',
      retentionDays: 30,
      retentionCount: before.length - 2,
    });
    const r = await pruning.prune();
    // The two oldest go; the newest (count) and the newest verified stay.
    expect(r.deleted.sort()).toEqual(ids.slice(0, 2));
    expect((await t.app.services.backup.list()).map((b) => b.id)).toEqual(
      before.filter((id) => !ids.slice(0, 2).includes(id)),
    );
  });
});
