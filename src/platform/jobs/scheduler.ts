/**
 * Periodic jobs for the worker. Each run takes a PostgreSQL advisory lock named after the job, so
 * with several workers running only one executes a given job at a time.
 */
import { createHash } from 'node:crypto';
import type pg from 'pg';
import { backoffDelay } from '../backoff.ts';
import { borrowClient } from '../db/pool.ts';
import type { Logger } from 'pino';

export interface Job {
  name: string;
  intervalMs: number;
  run(signal: AbortSignal): Promise<unknown>;
}

/**
 * Declares a job. Every job is made through this function, so a test can find each one in the
 * source and check that the worker schedules it.
 */
export function defineJob(job: Job): Job {
  if (!(job.intervalMs > 0)) throw new Error(`job ${job.name}: intervalMs must be positive`);
  return job;
}

function lockKey(name: string): string {
  // A stable signed 64-bit key derived from the job name.
  return createHash('sha256').update(`shopflow-job:${name}`).digest().readBigInt64BE(0).toString();
}

export class Scheduler {
  /** Names of the jobs {@link start} scheduled. */
  readonly scheduled: string[] = [];
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly running = new Set<Promise<unknown>>();
  private readonly abort = new AbortController();

  constructor(private readonly deps: { pool: pg.Pool; logger: Logger }) {}

  /** Runs `job` once now under its lock; false when another worker holds it. */
  async runOnce(job: Job): Promise<boolean> {
    // The lock lives on this connection for the job's length: borrowed, so that its loss is
    // noticed (the job fails and the connection is discarded, releasing the lock) instead of
    // ending the process.
    const borrowed = await borrowClient(this.deps.pool);
    const client = borrowed.client;
    let discard = false;
    try {
      const key = lockKey(job.name);
      const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1::bigint) AS ok', [
        key,
      ]);
      if (!rows[0]?.ok) return false;
      try {
        const started = performance.now();
        const result = await job.run(this.abort.signal);
        this.deps.logger.info(
          { job: job.name, ms: Math.round(performance.now() - started), result },
          'job done',
        );
      } finally {
        // Closing the connection releases a session lock too.
        await client.query('SELECT pg_advisory_unlock($1::bigint)', [key]).catch(() => (discard = true));
      }
      return true;
    } finally {
      borrowed.release(discard);
    }
  }

  /**
   * Runs each job every `intervalMs`. A failed run (a dependency away, a bug) is logged and
   * retried sooner, after a growing, jittered delay capped at the job's interval, so a job resumes
   * within seconds of its dependency coming back instead of an interval later.
   */
  start(jobs: Job[]): void {
    for (const job of jobs) {
      this.scheduled.push(job.name);
      let failures = 0;
      const schedule = (delay: number) => {
        const timer = setTimeout(() => {
          this.timers.delete(timer);
          tick();
        }, delay);
        this.timers.add(timer);
      };
      const tick = () => {
        if (this.abort.signal.aborted) return;
        const p = this.runOnce(job)
          .then(
            () => (failures = 0),
            (err: unknown) => {
              failures++;
              this.deps.logger.error({ job: job.name, err, failures }, 'job failed');
            },
          )
          .finally(() => {
            this.running.delete(p);
            const delay =
              failures === 0
                ? job.intervalMs
                : backoffDelay(failures, { baseMs: 1000, maxMs: job.intervalMs });
            if (!this.abort.signal.aborted) schedule(delay);
          });
        this.running.add(p);
      };
      // The first run comes one interval after start, not at once: a worker that restarts (a
      // deploy, a crash loop) must not rerun every job each time.
      schedule(job.intervalMs);
    }
  }

  /** Stops scheduling and waits for running jobs to finish. */
  async stop(): Promise<void> {
    this.abort.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    await Promise.allSettled([...this.running]);
  }
}
