/**
 * Runs the jobs: on cron schedules through pg-boss (a PostgreSQL job queue: each schedule fires
 * once per tick across every worker, a failed run is retried with backoff, one run of a job is
 * active at a time), or now, from the CLI or the admin API. Every run, however started, is
 * recorded in `job_runs` (start, end, outcome, counts, error, progress) and holds the job's
 * advisory lock, so a run from the CLI never overlaps a scheduled one.
 */
import { createHash } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import cronParser from 'cron-parser';
import PgBoss from 'pg-boss';
import type pg from 'pg';
import type { Logger } from 'pino';
import { borrowClient } from '../db/pool.ts';
import { AppError } from '../errors.ts';
import { cronVariable, type Job, type JobContext, type JobProgress } from './job.ts';
import { deleteInBatches } from './batches.ts';

export type JobTrigger = 'schedule' | 'cli' | 'api';
export type JobRunStatus = 'running' | 'succeeded' | 'failed' | 'skipped' | 'interrupted';

export interface JobRun {
  id: number;
  job: string;
  trigger: JobTrigger;
  status: JobRunStatus;
  attempt: number;
  worker: string;
  startedAt: string;
  finishedAt: string | null;
  progress: JobProgress | null;
  result: Record<string, unknown> | null;
  error: string | null;
}

/** How a run was started: by whom, which queued attempt, who wants its progress. */
export interface RunOptions {
  trigger: JobTrigger;
  queueJobId?: string;
  attempt?: number;
  onProgress?: (p: JobProgress) => void;
}

export interface JobInfo {
  name: string;
  description: string;
  /** Cron expression (UTC), or null when configuration turned the schedule off. */
  schedule: string | null;
  nextRunAt: string | null;
  lastRun: JobRun | null;
}

const HEARTBEAT_MS = 15_000;
const PROGRESS_WRITE_MS = 2000;

function lockKey(name: string): string {
  // A stable signed 64-bit key derived from the job name.
  return createHash('sha256').update(`shopflow-job:${name}`).digest().readBigInt64BE(0).toString();
}

/** Throws with a readable message when `cron` is not a valid five-field expression. */
export function nextCronTime(cron: string, after = new Date()): Date {
  return cronParser.parseExpression(cron, { tz: 'UTC', currentDate: after }).next().toDate();
}

/** A run still marked running whose heartbeat stopped two minutes ago died with its process. */
const RUN_COLUMNS = `id, job, trigger,
  CASE WHEN status = 'running' AND heartbeat_at < NOW() - INTERVAL '2 minutes'
       THEN 'interrupted' ELSE status END AS status,
  attempt, worker, started_at, finished_at, progress, result, error`;

/** A `job_runs` row as read: the record with its timestamps as dates. */
type RunRow = Omit<JobRun, 'startedAt' | 'finishedAt'> & { started_at: Date; finished_at: Date | null };

const toRun = (r: RunRow): JobRun => ({
  id: r.id,
  job: r.job,
  trigger: r.trigger,
  status: r.status,
  attempt: r.attempt,
  worker: r.worker,
  startedAt: r.started_at.toISOString(),
  finishedAt: r.finished_at?.toISOString() ?? null,
  progress: r.progress,
  result: r.result,
  error: r.error,
});

export class JobRunner {
  /** Names of the jobs {@link start} put on a schedule or a queue. */
  readonly scheduled: string[] = [];
  readonly worker = `${hostname()}:${process.pid}`;
  private readonly jobs = new Map<string, Job>();
  /** Each registered job's schedule in force: its own, or the configured override; null: none. */
  private readonly schedules = new Map<string, string | null>();
  private readonly abort = new AbortController();
  private boss: Promise<PgBoss> | undefined;
  private working = false;
  /**
   * The queue's statements and job handlers not settled yet. pg-boss completes or fails a job
   * without awaiting the statement, and a fetch in flight as it stops still hands its jobs to a
   * handler: {@link stop} waits for these before the caller closes the pool.
   */
  private readonly inFlight = new Set<Promise<unknown>>();

  private track<T>(work: Promise<T>): Promise<T> {
    this.inFlight.add(work);
    const settled = () => this.inFlight.delete(work);
    work.then(settled, settled);
    return work;
  }

  constructor(
    private readonly deps: {
      pool: pg.Pool;
      logger: Logger;
      /**
       * Schedules configured instead of the jobs' own (`CRON_<JOB>`), by job name: a cron
       * expression (UTC) or null for none. Naming a job that is not registered is an error.
       */
      overrides?: Readonly<Record<string, string | null>>;
      /** How often workers poll their queues (seconds); lower in tests. */
      pollSeconds?: number;
      /**
       * How often the schedules are checked (seconds, default 30: each minute is seen twice).
       * Every check computes each schedule's last due time, which costs CPU; lower in tests.
       */
      cronCheckSeconds?: number;
      /** Retries of a failed scheduled or queued run (default 2)... */
      retryLimit?: number;
      /** ...with exponential backoff from this delay (default 30 s). */
      retryDelaySeconds?: number;
    },
  ) {}

  /**
   * Makes every job known (to list and run), with its schedule in force; `start` schedules them.
   * Called once with all the jobs: a configured schedule for a job not among them is refused.
   */
  register(jobs: Job[]): void {
    const overrides = this.deps.overrides ?? {};
    for (const job of jobs) {
      if (this.jobs.has(job.name)) throw new Error(`job ${job.name} is registered twice`);
      this.jobs.set(job.name, job);
      const own = job.schedule === 'off' ? null : job.schedule;
      this.schedules.set(job.name, job.name in overrides ? overrides[job.name]! : own);
    }
    const unknown = Object.keys(overrides).filter((name) => !this.jobs.has(name));
    if (unknown.length)
      throw new Error(
        `${unknown.map(cronVariable).join(', ')}: no such job (shopflow jobs list shows the jobs)`,
      );
  }

  /** The registered jobs that apply the retention rules, in the order they run. */
  retentionJobs(): string[] {
    return [...this.jobs.values()]
      .filter((j) => j.retentionStep !== undefined)
      .sort((a, b) => a.retentionStep! - b.retentionStep!)
      .map((j) => j.name);
  }

  has(name: string): boolean {
    return this.jobs.has(name);
  }

  /** The queue client; a worker's schedules and maintenance only with `worker`. */
  private queue(worker = false): Promise<PgBoss> {
    this.boss ??= (async () => {
      const poll = this.deps.pollSeconds ?? 2;
      const boss = new PgBoss({
        db: { executeSql: (text, values) => this.track(this.deps.pool.query(text, values)) },
        schema: 'pgboss',
        migrate: worker,
        supervise: worker,
        schedule: worker,
        cronMonitorIntervalSeconds: Math.min(30, Math.max(1, this.deps.cronCheckSeconds ?? 30)),
        cronWorkerIntervalSeconds: Math.max(1, poll),
      });
      // The queue's own loops report a database that went away here; they retry by themselves.
      boss.on('error', (err) => this.deps.logger.warn({ err }, 'job queue: database error; retrying'));
      await boss.start();
      return boss;
    })().catch((err: unknown) => {
      this.boss = undefined;
      throw err;
    });
    return this.boss;
  }

  /** Starts the schedules and the queue workers of every registered job. */
  async start(): Promise<void> {
    if (this.working) return;
    this.working = true;
    const boss = await this.queue(true);
    for (const job of this.jobs.values()) {
      await this.ensureQueue(boss, job.name, true);
      const cron = this.schedules.get(job.name);
      if (cron) await boss.schedule(job.name, cron, { trigger: 'schedule' }, { tz: 'UTC' });
      else await boss.unschedule(job.name);
      await boss.work<{ trigger?: JobTrigger }>(
        job.name,
        { includeMetadata: true, batchSize: 1, pollingIntervalSeconds: this.deps.pollSeconds ?? 2 },
        ([queued]) => this.track(this.handle(job.name, queued)),
      );
      this.scheduled.push(job.name);
    }
  }

  /** Runs a job the queue handed over; a failure goes back to the queue, which retries it. */
  private async handle(
    name: string,
    queued: PgBoss.JobWithMetadata<{ trigger?: JobTrigger }> | undefined,
  ): Promise<Record<string, unknown>> {
    if (!queued) return {};
    // Handed over as this runner stops (its fetch was in flight): back to the queue, untouched.
    if (this.abort.signal.aborted) throw new Error('worker stopping: the run goes back to the queue');
    const run = await this.run(name, {
      trigger: queued.data?.trigger === 'api' ? 'api' : 'schedule',
      queueJobId: queued.id,
      attempt: queued.retryCount + 1,
    });
    // A failure goes back to the queue, which retries it with backoff.
    if (run.status === 'failed') throw new Error(run.error ?? 'job failed');
    return run.result ?? {};
  }

  private readonly queues = new Set<string>();

  /** The job's queue exists (made by whichever process needs it first), with this runner's settings. */
  private async ensureQueue(boss: PgBoss, name: string, update = false): Promise<void> {
    if (this.queues.has(name) && !update) return;
    const options = {
      name,
      policy: 'singleton' as const, // one active run of a job at a time, across the fleet
      retryLimit: this.deps.retryLimit ?? 2,
      retryDelay: this.deps.retryDelaySeconds ?? 30,
      retryBackoff: true,
      expireInSeconds: 6 * 3600,
    };
    // Several processes may create it at once: a creation that fails (a deadlock with another
    // process's, or one that lost to a creation rolled back meanwhile) is retried until the queue
    // is there, then this runner's settings are applied.
    for (let attempt = 1; ; attempt++) {
      const failure = await boss.createQueue(name, options).then(
        () => undefined,
        (e: unknown) => e,
      );
      if (failure === undefined) break;
      if (await boss.getQueue(name)) {
        if (update) await boss.updateQueue(name, options);
        break;
      }
      if (attempt === 5)
        throw failure instanceof Error ? failure : new Error(`queue ${name} could not be created`);
      await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
    }
    this.queues.add(name);
  }

  /** Stops taking runs and waits (up to `timeoutMs`) for those running, which are told to stop. */
  async stop(timeoutMs = 10_000): Promise<void> {
    if (this.abort.signal.aborted) return;
    this.abort.abort();
    const boss = await this.boss?.catch(() => undefined);
    const deadline = Date.now() + timeoutMs;
    await boss?.stop({ graceful: true, wait: true, timeout: timeoutMs, close: false });
    const waited = new AbortController();
    try {
      while (this.inFlight.size > 0 && Date.now() < deadline) {
        const timeout = sleep(deadline - Date.now(), undefined, { signal: waited.signal, ref: false });
        await Promise.race([Promise.allSettled([...this.inFlight]), timeout.catch(() => undefined)]);
        // What settled may issue more (a handler's end completes or fails its job): let it.
        await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      waited.abort();
    }
  }

  /** Puts a run of `name` on the queue for a worker to take; returns the queue's job id. */
  async enqueue(name: string): Promise<string> {
    if (!this.jobs.has(name)) throw new Error(`unknown job ${name}`);
    const boss = await this.queue();
    await this.ensureQueue(boss, name);
    const id = await boss.send(name, { trigger: 'api' });
    if (!id)
      throw AppError.conflict('job_already_queued', `A run of ${name} is already waiting`, { job: name });
    return id;
  }

  /**
   * Runs `name` now in this process, under its lock, and records the run. Resolves with the
   * record: `skipped` when another run holds the lock, `failed` with the error message when the
   * job threw, `interrupted` when this process was stopping.
   */
  async run(name: string, options: RunOptions): Promise<JobRun> {
    const job = this.jobs.get(name);
    if (!job) throw new Error(`unknown job ${name}`);
    const borrowed = await borrowClient(this.deps.pool);
    const client = borrowed.client;
    let discard = false;
    try {
      const key = lockKey(name);
      const { rows: lock } = await client.query<{ ok: boolean }>(
        'SELECT pg_try_advisory_lock($1::bigint) AS ok',
        [key],
      );
      if (!lock[0]?.ok)
        return await this.record(name, options, 'skipped', { reason: 'another run in progress' });
      try {
        return await this.execute(job, options);
      } finally {
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => (discard = true));
      }
    } finally {
      borrowed.release(discard);
    }
  }

  private async record(
    name: string,
    options: RunOptions,
    status: JobRunStatus,
    result: Record<string, unknown> | null = null,
  ): Promise<JobRun> {
    const { rows } = await this.deps.pool.query<RunRow>(
      `INSERT INTO job_runs (job, trigger, status, attempt, queue_job_id, worker, result, finished_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, CASE WHEN $3 = 'running' THEN NULL ELSE NOW() END)
       ON CONFLICT (queue_job_id, attempt) WHERE queue_job_id IS NOT NULL DO NOTHING
       RETURNING ${RUN_COLUMNS}`,
      [name, options.trigger, status, options.attempt ?? 1, options.queueJobId ?? null, this.worker, result],
    );
    // The same queued attempt recorded already: another worker took it (an expired job); skip it.
    if (!rows[0])
      return this.record(name, { trigger: options.trigger }, 'skipped', { reason: 'already run' });
    return toRun(rows[0]);
  }

  private async execute(job: Job, options: RunOptions): Promise<JobRun> {
    const started = await this.record(job.name, options, 'running');
    if (started.status === 'skipped') return started;
    let latest: JobProgress | undefined;
    let written = 0;
    const write = () =>
      this.deps.pool
        .query('UPDATE job_runs SET heartbeat_at = NOW(), progress = COALESCE($2, progress) WHERE id = $1', [
          started.id,
          latest ?? null,
        ])
        .catch(() => undefined);
    const heartbeat = setInterval(() => void write(), HEARTBEAT_MS);
    heartbeat.unref();
    const begun = performance.now();
    let status: JobRunStatus = 'succeeded';
    let result: Record<string, unknown> | null = null;
    let error: string | null = null;
    try {
      result = await job.run({
        signal: this.abort.signal,
        progress: (p) => {
          latest = p;
          options.onProgress?.(p);
          if (Date.now() - written > PROGRESS_WRITE_MS) {
            written = Date.now();
            void write();
          }
        },
      });
      if (this.abort.signal.aborted) status = 'interrupted';
    } catch (err) {
      status = 'failed';
      error = err instanceof Error ? err.message.slice(0, 1000) : 'failed';
      this.deps.logger.error({ err, job: job.name }, 'job failed');
    } finally {
      clearInterval(heartbeat);
    }
    const ms = Math.round(performance.now() - begun);
    if (status !== 'failed') this.deps.logger.info({ job: job.name, ms, result, status }, 'job done');
    const { rows } = await this.deps.pool.query<RunRow>(
      `UPDATE job_runs SET status = $2, finished_at = NOW(), heartbeat_at = NOW(), result = $3, error = $4,
         progress = COALESCE($5, progress)
       WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
      [started.id, status, result, error, latest ?? null],
    );
    return toRun(rows[0]!);
  }

  /** Every registered job with its schedule, next run and last run. */
  async list(): Promise<JobInfo[]> {
    const names = [...this.jobs.keys()].sort();
    const { rows } = await this.deps.pool.query<RunRow>(
      `SELECT r.* FROM unnest($1::text[]) AS j(name) CROSS JOIN LATERAL (
         SELECT ${RUN_COLUMNS} FROM job_runs WHERE job = j.name ORDER BY started_at DESC, id DESC LIMIT 1) r`,
      [names],
    );
    const last = new Map(rows.map((r) => [r.job, toRun(r)]));
    return names.map((name) => {
      const schedule = this.schedules.get(name) ?? null;
      return {
        name,
        description: this.jobs.get(name)!.description,
        schedule,
        nextRunAt: schedule ? nextCronTime(schedule).toISOString() : null,
        lastRun: last.get(name) ?? null,
      };
    });
  }

  /** Deletes the records of runs started more than `days` ago, a batch per statement. */
  pruneRuns(days: number, ctx: JobContext, batch: number): Promise<number> {
    return deleteInBatches(
      this.deps.pool,
      `DELETE FROM job_runs WHERE id IN (
         SELECT id FROM job_runs WHERE started_at < NOW() - make_interval(days => $1) LIMIT $2)`,
      [days],
      ctx,
      { batch, unit: 'rows' },
    );
  }

  /** Runs, newest first; `before` (a run id) pages on. */
  async history(filter: { job?: string; limit: number; before?: number }): Promise<JobRun[]> {
    const { rows } = await this.deps.pool.query<RunRow>(
      `SELECT ${RUN_COLUMNS} FROM job_runs
       WHERE ($1::text IS NULL OR job = $1) AND ($2::bigint IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [filter.job ?? null, filter.before ?? null, filter.limit],
    );
    return rows.map(toRun);
  }
}
