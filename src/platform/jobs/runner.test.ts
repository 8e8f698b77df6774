/**
 * The job runner against a real PostgreSQL: schedules fire once per tick across workers, failed
 * runs are retried with backoff, a run by hand never overlaps a scheduled one, and every run is
 * recorded with its outcome and counts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/db.ts';
import { eventually } from '../../../test/helpers/eventually.ts';
import { createLogger } from '../logger.ts';
import { defineJob, type Job } from './job.ts';
import { JobRunner } from './runner.ts';

const logger = createLogger('silent');

describe('job runner', () => {
  let db: TestDatabase;
  const runners: JobRunner[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await Promise.all(runners.map((r) => r.stop()));
    await db?.drop();
  });
  const runner = (jobs: Job[], overrides: Record<string, string | null> = {}) => {
    const r = new JobRunner({
      pool: db.pool,
      logger,
      overrides,
      pollSeconds: 1,
      cronCheckSeconds: 1,
      retryDelaySeconds: 1,
    });
    r.register(jobs);
    runners.push(r);
    return r;
  };

  it('runs a schedule once per tick however many workers run it, and records each run', async () => {
    let executions = 0;
    const job = () =>
      defineJob({
        name: 'tick-counter',
        description: 'counts',
        schedule: '* * * * *',
        run: async () => {
          executions++;
          await sleep(300);
          return { counted: 1 };
        },
      });
    const a = runner([job()]);
    const b = runner([job()]);
    await Promise.all([a.start(), b.start()]);
    await eventually(
      async () => expect((await a.history({ job: 'tick-counter', limit: 10 })).length).toBe(1),
      {
        timeoutMs: 20_000,
      },
    );
    await sleep(3000); // both workers kept polling meanwhile
    const runs = await eventually(async () => {
      const all = await a.history({ job: 'tick-counter', limit: 10 });
      expect(all.every((x) => x.status === 'succeeded')).toBe(true);
      return all;
    });
    // The ticks the schedule fired: pg-boss sends a schedule's job through its send-it queue, one
    // row per minute slot (a run's start time is no measure: a tick sent at 12:00:59.9 may start
    // at 12:01:00.4, in the same minute as the next tick's run).
    const { rows } = await db.pool.query<{ ticks: number; slots: number }>(
      `SELECT COUNT(*)::int AS ticks, COUNT(DISTINCT singleton_on)::int AS slots
         FROM pgboss.job WHERE name = '__pgboss__send-it' AND singleton_key = 'tick-counter'`,
    );
    expect(rows[0]!.ticks).toBeGreaterThanOrEqual(1);
    expect(rows[0]!.slots).toBe(rows[0]!.ticks);
    expect(runs.length).toBe(rows[0]!.ticks);
    const queued = await db.pool.query<{ n: number }>(
      `SELECT COUNT(DISTINCT queue_job_id)::int AS n FROM job_runs WHERE job = 'tick-counter'`,
    );
    expect(queued.rows[0]!.n).toBe(runs.length); // each run is its own queued job
    expect(executions).toBe(runs.length);
    expect(runs[0]).toMatchObject({ status: 'succeeded', trigger: 'schedule', result: { counted: 1 } });
    await Promise.all([a.stop(), b.stop()]);
  });

  it('retries a failed run with backoff and records each attempt', async () => {
    let calls = 0;
    const r = runner(
      [
        defineJob({
          name: 'flaky',
          description: 'fails once',
          schedule: '* * * * *',
          run: () => {
            calls++;
            if (calls === 1) return Promise.reject(new Error('database went away'));
            return Promise.resolve({ done: 1 });
          },
        }),
      ],
      { flaky: null }, // CRON_FLAKY=off: queued by hand only
    );
    await r.start();
    await r.enqueue('flaky');
    await eventually(
      async () => {
        const runs = await r.history({ job: 'flaky', limit: 10 });
        expect(runs.map((x) => [x.attempt, x.status, x.trigger, x.error])).toEqual([
          [2, 'succeeded', 'api', null],
          [1, 'failed', 'api', 'database went away'],
        ]);
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    await r.stop();
  });

  it('skips a run by hand while another run holds the job, and marks a run stopped midway interrupted', async () => {
    const r = runner([
      defineJob({
        name: 'long-batches',
        description: 'works until told to stop',
        schedule: 'off',
        run: async ({ signal, progress }) => {
          let done = 0;
          while (!signal.aborted && done < 1000) {
            await sleep(20);
            progress({ done: ++done, total: 1000, unit: 'batches' });
          }
          return { done };
        },
      }),
    ]);
    const seen: number[] = [];
    const first = r.run('long-batches', { trigger: 'cli', onProgress: (p) => seen.push(p.done) });
    await eventually(() => expect(seen.length).toBeGreaterThan(3));
    const second = await r.run('long-batches', { trigger: 'cli' });
    expect(second).toMatchObject({ status: 'skipped', result: { reason: 'another run in progress' } });
    await r.stop();
    const stopped = await first;
    expect(stopped.status).toBe('interrupted');
    expect(stopped.result!.done).toBeLessThan(1000);
    expect(stopped.progress).toMatchObject({ total: 1000, unit: 'batches' });
  });

  it('shows a run whose process died (no heartbeat for two minutes) as interrupted', async () => {
    await db.pool.query(
      `INSERT INTO job_runs (job, trigger, status, worker, started_at, heartbeat_at)
       VALUES ('ghost', 'schedule', 'running', 'gone:1', NOW() - INTERVAL '10 minutes', NOW() - INTERVAL '3 minutes')`,
    );
    const r = runner([], {});
    expect((await r.history({ job: 'ghost', limit: 1 }))[0]!.status).toBe('interrupted');
  });

  it('schedules a job on its own schedule unless configured otherwise, and refuses an override for no job', async () => {
    const job = (name: string, schedule: string) =>
      defineJob({ name, description: 'x', schedule, run: () => Promise.resolve({}) });
    const r = runner(
      [job('own-schedule', '5 4 * * *'), job('overridden', '* * * * *'), job('by-hand', 'off')],
      {
        overridden: null,
      },
    );
    const schedules = Object.fromEntries((await r.list()).map((j) => [j.name, j.schedule]));
    expect(schedules).toEqual({ 'own-schedule': '5 4 * * *', overridden: null, 'by-hand': null });
    expect(() => runner([job('known', 'off')], { 'no-such-job': '* * * * *' })).toThrow(/CRON_NO_SUCH_JOB/);
    expect(() => job('bad-default', 'hourly')).toThrow(/not a five-field cron/);
  });

  it('gives back a job handed over while it stops, and settles the queue statements before the pool closes', async () => {
    // Its own pool, whose fetch of this job's queue the test holds back once: a fetch in flight as
    // the runner stops (CI once saw the queue fail a job after the pool had closed).
    const pool = new pg.Pool({ connectionString: db.url, max: 4 });
    onTestFinished(async () => {
      if (!pool.ended) await pool.end();
    });
    const query = pool.query.bind(pool) as (text: string, values?: unknown[]) => Promise<unknown>;
    let armed = false;
    let fetchHeld!: () => void;
    let releaseFetch!: () => void;
    const held = new Promise<void>((resolve) => (fetchHeld = resolve));
    const released = new Promise<void>((resolve) => (releaseFetch = resolve));
    pool.query = ((text: string, values?: unknown[]) => {
      if (armed && text.includes('SKIP LOCKED') && values?.[0] === 'handover') {
        armed = false;
        fetchHeld();
        return released.then(() => query(text, values));
      }
      return query(text, values);
    }) as typeof pool.query;
    let ran = 0;
    const r = new JobRunner({
      pool,
      logger,
      pollSeconds: 1,
      cronCheckSeconds: 1,
      retryDelaySeconds: 60,
    });
    r.register([
      defineJob({
        name: 'handover',
        description: 'counts its runs',
        schedule: 'off',
        run: () => {
          ran++;
          return Promise.resolve({});
        },
      }),
    ]);
    // Queued before the worker starts, so its first fetch (the one held) is the one that takes the
    // job: a poll issued earlier could otherwise run after the send and take it (CI saw that once).
    armed = true;
    const id = await r.enqueue('handover');
    await r.start();
    await held;
    let stopped = false;
    const stopping = r.stop().then(() => (stopped = true));
    await sleep(1500); // pg-boss itself has stopped meanwhile; its fetch is still out
    expect(stopped).toBe(false);
    releaseFetch();
    await stopping;
    // Anything the queue sent from now on would reject unhandled, which fails the test run.
    await pool.end();
    expect(ran).toBe(0);
    const { rows } = await db.pool.query<{ state: string }>('SELECT state FROM pgboss.job WHERE id = $1', [
      id,
    ]);
    expect(rows[0]?.state).toBe('retry'); // back on the queue, to run later
    const runs = await db.pool.query("SELECT 1 FROM job_runs WHERE job = 'handover'");
    expect(runs.rows).toHaveLength(0);
  });
});
