/**
 * The jobs of a real app: on their cron schedules in a started worker (published outbox rows
 * older than the retention are pruned with nobody calling anything), on demand through the admin
 * API (a worker takes the queued run) and from the CLI, each run visible in GET /admin/jobs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { eventually } from './helpers/eventually.ts';
import { shopflow } from './helpers/cli.ts';
import { createTestDatabase } from './db.ts';
import type { JobRun } from '../src/platform/jobs/runner.ts';

describe('scheduled jobs in a running worker', () => {
  let t: TestApp;
  beforeAll(async () => {
    // Every minute: a schedule's first tick is due as soon as the worker starts.
    t = await createTestApp({
      CRON_PRUNE_OUTBOX: '* * * * *',
      OUTBOX_RETENTION_DAYS: '7',
    });
  });
  afterAll(async () => t?.close());
  const { call, newProduct, order } = api(() => t);
  /** Queues a run through the admin API and waits for the worker to finish it. */
  const runByApi = async (name: string) => {
    const queued = await call<{ queueJobId: string }>('POST', `/admin/jobs/${name}/run`);
    expect(queued.status).toBe(202);
    return eventually(
      async () => {
        const runs = await call<{ items: JobRun[] }>('GET', `/admin/jobs/runs?job=${name}&limit=1`);
        const run = runs.body.items[0];
        expect(run).toMatchObject({ trigger: 'api', status: 'succeeded' });
        return run!;
      },
      { timeoutMs: 20_000 },
    );
  };

  it('prunes published outbox rows past the retention and keeps younger ones', async () => {
    const { rows } = await t.db.pool.query<{ id: string; age: string }>(
      `INSERT INTO outbox (aggregate_type, aggregate_id, event_type, payload, created_at, published_at)
       VALUES ('test', 'old', 'test.old', '{}', NOW() - INTERVAL '9 days', NOW() - INTERVAL '8 days'),
              ('test', 'young', 'test.young', '{}', NOW() - INTERVAL '2 days', NOW() - INTERVAL '1 day')
       RETURNING id::text, aggregate_id AS age`,
    );
    const old = rows.find((r) => r.age === 'old')!.id;
    const young = rows.find((r) => r.age === 'young')!.id;
    await t.app.worker.start();
    await eventually(
      async () => {
        const { rows: left } = await t.db.pool.query<{ id: string }>(
          'SELECT id::text FROM outbox WHERE id = ANY($1::bigint[])',
          [[old, young]],
        );
        expect(left.map((r) => r.id)).toEqual([young]);
      },
      { timeoutMs: 15_000 },
    );
  });

  it('makes search popularity follow product_stats when its jobs run', async () => {
    await t.app.worker.start();
    const productId = await newProduct({ name: 'Chaleira Elétrica Inox', availableQuantity: 50 });
    for (let i = 0; i < 3; i++) expect((await order([{ productId, quantity: 2 }])).status).toBe(201);
    await runByApi('refresh-product-stats');
    const synced = await runByApi('search-popularity-sync');
    expect(typeof synced.result?.products).toBe('number');
    const { rows } = await t.db.pool.query<{ stats: number | null; indexed: number | null }>(
      `SELECT (SELECT popularity_score FROM product_stats WHERE product_id = $1) AS stats,
              (SELECT popularity FROM search_documents WHERE product_id = $1) AS indexed`,
      [productId],
    );
    expect(rows[0]!.stats).toBeGreaterThan(0);
    expect(rows[0]!.indexed).toBeCloseTo(rows[0]!.stats!, 3);
  });

  it('repairs index drift (a document lost behind the index) when the reconcile job runs', async () => {
    await t.app.worker.start();
    const productId = await newProduct({ name: 'Garrafa Térmica 1 Litro' });
    const indexed = async () =>
      (await t.db.pool.query('SELECT 1 FROM search_documents WHERE product_id = $1', [productId])).rowCount;
    await eventually(async () => expect(await indexed()).toBe(1));
    await t.db.pool.query('DELETE FROM search_documents WHERE product_id = $1', [productId]);
    expect((await runByApi('search-reconcile')).result).toMatchObject({ missing: 1 });
    expect(await indexed()).toBe(1);
  });

  it('lists every job with its schedule, next run and last run', async () => {
    const res = await call<{
      items: { name: string; schedule: string | null; nextRunAt: string | null; lastRun: JobRun | null }[];
    }>('GET', '/admin/jobs');
    expect(res.status).toBe(200);
    const names = res.body.items.map((j) => j.name);
    expect(names).toEqual([...t.app.worker.running.jobs].sort());
    const prune = res.body.items.find((j) => j.name === 'prune-outbox')!;
    expect(prune.schedule).toBe('* * * * *');
    expect(Date.parse(prune.nextRunAt!)).toBeGreaterThan(Date.now());
    expect(prune.lastRun).toMatchObject({ trigger: 'schedule', status: 'succeeded' });
    expect(res.body.items.find((j) => j.name === 'refresh-product-stats')!.schedule).toBe('*/5 * * * *');
    // Unknown job, bad input: clear 4xx.
    expect((await call('POST', '/admin/jobs/no-such-job/run')).status).toBe(404);
    expect((await call('POST', '/admin/jobs/Bad_Name!/run')).status).toBe(400);
    expect((await call('GET', '/admin/jobs/runs?limit=100000')).status).toBe(400);
    expect((await call('GET', '/admin/jobs', undefined, null)).status).toBe(401);
  });
});

describe('jobs from the CLI', () => {
  it('lists the jobs and runs one with its result, recorded like a scheduled run', async () => {
    const db = await createTestDatabase();
    try {
      const list = await shopflow(['jobs', 'list'], { DATABASE_URL: db.url });
      expect(list.code).toBe(0);
      expect(list.stdout).toContain('expire-pending-orders');
      expect(list.stdout).toContain('schedule: * * * * *');
      const run = await shopflow(['jobs', 'run', 'expire-transient-rows'], { DATABASE_URL: db.url });
      expect(run.code).toBe(0);
      expect(run.stdout).toMatch(/expire-transient-rows: succeeded .*"sessions":0/);
      const { rows } = await db.pool.query<{ trigger: string; status: string }>(
        "SELECT trigger, status FROM job_runs WHERE job = 'expire-transient-rows'",
      );
      expect(rows).toEqual([{ trigger: 'cli', status: 'succeeded' }]);
      const unknown = await shopflow(['jobs', 'run', 'nope'], { DATABASE_URL: db.url });
      expect(unknown.code).toBe(1);
      expect(unknown.stderr).toContain('unknown job nope');
    } finally {
      await db.drop();
    }
  });
});
