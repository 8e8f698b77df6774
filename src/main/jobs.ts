import { SingleBar, Presets } from 'cli-progress';
import { isTty, type AppConfig } from '../config.ts';
import type { JobRun } from '../platform/jobs/runner.ts';
import type { App } from '../app.ts';
import { withApp } from './shared.ts';

const summary = (run: JobRun | null): string =>
  run
    ? `${run.status} ${run.startedAt}${run.result ? ` ${JSON.stringify(run.result)}` : ''}${run.error ? ` (${run.error})` : ''}`
    : 'never run';

/** `shopflow jobs list`: every job, its schedule, next and last run. */
export async function runJobsList(config: AppConfig): Promise<void> {
  await withApp(config, async (app) => {
    for (const job of await app.jobs.list()) {
      process.stdout.write(
        `${job.name}\n  ${job.description}\n  schedule: ${job.schedule ?? 'off (run by hand only)'}` +
          `${job.nextRunAt ? `, next ${job.nextRunAt}` : ''}\n  last run: ${summary(job.lastRun)}\n`,
      );
    }
  });
}

/**
 * `shopflow jobs run NAME`: runs the job now in this process, with progress, recorded like a
 * scheduled run. Ctrl+C stops it after the current batch (recorded as interrupted; rerun to go on).
 */
export async function runJob(config: AppConfig, name: string): Promise<void> {
  await withApp(config, (app) => runOne(app, name));
}

/** `shopflow retention run`: every retention job in turn, each with its progress; stops at the first failure. */
export async function runRetention(config: AppConfig): Promise<void> {
  await withApp(config, async (app) => {
    for (const name of app.jobs.retentionJobs()) {
      await runOne(app, name);
      if (process.exitCode) return;
    }
  });
}

async function runOne(app: App, name: string): Promise<void> {
  if (!app.jobs.has(name)) throw new Error(`unknown job ${name} (see shopflow jobs list)`);
  const onSignal = () => void app.jobs.stop();
  process.once('SIGINT', onSignal);
  const bar = isTty()
    ? new SingleBar({ format: `${name} [{bar}] {value}/{total} {unit}` }, Presets.shades_classic)
    : undefined;
  let lastReport = 0;
  try {
    const run = await app.jobs.run(name, {
      trigger: 'cli',
      onProgress: (p) => {
        if (bar && p.total !== undefined) {
          if (!bar.getTotal()) bar.start(p.total, 0, { unit: p.unit ?? '' });
          bar.update(p.done, { unit: p.unit ?? '' });
        } else if (Date.now() - lastReport > 1000) {
          lastReport = Date.now();
          process.stderr.write(
            `${name}: ${p.done}${p.total !== undefined ? `/${p.total}` : ''} ${p.unit ?? ''}\n`,
          );
        }
      },
    });
    bar?.stop();
    process.stdout.write(`${name}: ${summary(run)}\n`);
    if (run.status !== 'succeeded') process.exitCode = 1;
  } finally {
    bar?.stop();
    process.off('SIGINT', onSignal);
  }
}

/** `shopflow retention restore-order ID`: one archived order back into the hot tables. */
export async function runRestoreOrder(config: AppConfig, id: string): Promise<void> {
  await withApp(config, async (app) => {
    const r = await app.services.archive.restoreOrder(id);
    const says = {
      restored: `order ${id} restored into the orders tables`,
      not_archived: `order ${id} is not archived (it is in the orders tables)`,
      restore_requested: `order ${id} is in cold storage: a restore was requested (S3 Glacier, standard tier: 3-5 hours); run this command again then`,
      restoring: `order ${id} is being restored from cold storage; run this command again later`,
    } as const;
    process.stdout.write(says[r.status] + '\n');
    if (r.status === 'restore_requested' || r.status === 'restoring') process.exitCode = 3;
  });
}
