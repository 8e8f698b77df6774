/** A job: recurring or on-demand work that runs in bounded batches and can be stopped at any point. */
import cronParser from 'cron-parser';

export interface JobProgress {
  /** Units done so far (rows, orders, objects: the job says which in `unit`). */
  done: number;
  /** Units in all, when known. */
  total?: number;
  unit?: string;
}

export interface JobContext {
  /** Aborted when the process stops: finish the current batch and return what was done. */
  signal: AbortSignal;
  /** Reports progress (recorded on the run, shown by the CLI); cheap to call after every batch. */
  progress: (p: JobProgress) => void;
}

export interface Job {
  name: string;
  /** One line for `shopflow jobs list` and GET /admin/jobs. */
  description: string;
  /**
   * When it runs unless configured otherwise: a five-field cron expression (UTC), or `off` (run by
   * hand or through the API only). The variable `CRON_<NAME>` (dashes as underscores) overrides it.
   */
  schedule: string;
  /** Set on the jobs that apply the retention rules: their place in `shopflow retention run`. */
  retentionStep?: number;
  /**
   * Does the work. Safe to run again at any time (after an interruption, twice in a row): every
   * job works in batches that each commit on their own and skips what is already done. Returns
   * counts for the run's record.
   */
  run(ctx: JobContext): Promise<Record<string, number | string | boolean>>;
}

/**
 * Declares a job. Every job is made through this function, so a test can find each one in the
 * source and check that the worker schedules it.
 */
export function defineJob(job: Job): Job {
  if (!/^[a-z][a-z0-9-]{1,60}$/.test(job.name))
    throw new Error(`job name ${job.name}: lowercase words and dashes`);
  if (!isCronExpression(job.schedule))
    throw new Error(`job ${job.name}: schedule ${job.schedule} is not a five-field cron expression or off`);
  return job;
}

/** The variable that overrides a job's schedule: `CRON_` and the name, dashes as underscores. */
export const cronVariable = (job: string) => `CRON_${job.toUpperCase().replace(/-/g, '_')}`;

/** The job a `CRON_*` variable names (job names have no underscores, so this is exact). */
export const jobOfCronVariable = (variable: string) => variable.slice(5).toLowerCase().replace(/_/g, '-');

/** A five-field cron expression (minute hour day month weekday, UTC), or `off`. */
export function isCronExpression(v: string): boolean {
  if (v === 'off') return true;
  try {
    cronParser.parseExpression(v, { tz: 'UTC' });
    return v.trim().split(/\s+/).length === 5;
  } catch {
    return false;
  }
}
