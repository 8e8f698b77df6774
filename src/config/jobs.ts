/** Scheduled jobs (schedule overrides, how often schedules are checked) and what retention keeps. */
import { isCronExpression, jobOfCronVariable } from '../platform/jobs/job.ts';
import { int, type Env, type EnvOf } from './kit.ts';

export const jobsEnv = {
  JOB_SCHEDULE_CHECK_SECONDS: int(1, 30).default(30),
  OUTBOX_RETENTION_DAYS: int(0, 3650).default(7),
  CART_RETENTION_DAYS: int(1, 3650).default(30),
  CUSTOMER_CART_RETENTION_DAYS: int(1, 3650).default(180),
  FAILED_PAYMENT_RETENTION_DAYS: int(1, 3650).default(90),
  JOB_RUN_RETENTION_DAYS: int(1, 3650).default(90),
  AUDIT_RETENTION_DAYS: int(1, 36500).default(730),
  ARCHIVE_ORDERS_AFTER_DAYS: int(1, 36500).default(730),
  BACKUP_RETENTION_DAYS: int(1, 36500).default(30),
  BACKUP_RETENTION_COUNT: int(0, 100_000).default(48),
};

export interface JobsSection {
  /** What jobs keep, and how their schedules are checked. */
  jobs: {
    /**
     * Schedules set by `CRON_<JOB>` variables instead of the job's own, by job name: a cron
     * expression (UTC), or null (`off`: only when started by hand). Each job carries its default.
     */
    scheduleOverrides: Readonly<Record<string, string | null>>;
    /** How often a worker checks which schedules are due (each check costs CPU). */
    scheduleCheckSeconds: number;
    outboxRetentionDays: number;
  };
  /** How long data is kept before the retention jobs delete it, in days. */
  retention: {
    guestCartDays: number;
    /** Customer carts (not checked out) untouched this long are deleted. */
    customerCartDays: number;
    failedPaymentDays: number;
    jobRunDays: number;
    auditDays: number;
    archiveOrdersAfterDays: number;
    backupDays: number;
    /** Backups kept whatever their age: the newest this many. */
    backupCount: number;
  };
}

/** The `CRON_*` variables that are not a valid name and five-field cron expression (or `off`). */
export function badCronVariables(source: Env): string[] {
  return Object.entries(source)
    .filter(([k, v]) => k.startsWith('CRON_') && !(/^CRON_[A-Z0-9_]+$/.test(k) && isCronExpression(v!)))
    .map(([k]) => `${k}: must be a five-field cron expression (minute hour day month weekday, UTC) or off`);
}

export function jobsConfig(e: EnvOf<typeof jobsEnv>, source: Env): JobsSection {
  return {
    jobs: {
      scheduleOverrides: Object.fromEntries(
        Object.entries(source)
          .filter(([k]) => k.startsWith('CRON_'))
          .map(([k, v]) => [jobOfCronVariable(k), v === 'off' ? null : v!]),
      ),
      scheduleCheckSeconds: e.JOB_SCHEDULE_CHECK_SECONDS,
      outboxRetentionDays: e.OUTBOX_RETENTION_DAYS,
    },
    retention: {
      guestCartDays: e.CART_RETENTION_DAYS,
      customerCartDays: e.CUSTOMER_CART_RETENTION_DAYS,
      failedPaymentDays: e.FAILED_PAYMENT_RETENTION_DAYS,
      jobRunDays: e.JOB_RUN_RETENTION_DAYS,
      auditDays: e.AUDIT_RETENTION_DAYS,
      archiveOrdersAfterDays: e.ARCHIVE_ORDERS_AFTER_DAYS,
      backupDays: e.BACKUP_RETENTION_DAYS,
      backupCount: e.BACKUP_RETENTION_COUNT,
    },
  };
}
