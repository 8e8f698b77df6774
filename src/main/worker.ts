import closeWithGrace from 'close-with-grace';
import type { AppConfig } from '../config.ts';
import { createApp, type App } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { Scheduler, type Job } from '../platform/jobs/scheduler.ts';
import { expireTransientRowsJob } from '../modules/housekeeping/housekeeping.jobs.ts';

/** The jobs a worker runs (and a `SHOPFLOW_ROLE=all` server runs beside the API). */
export function workerJobs(app: App): Job[] {
  const jobs = [expireTransientRowsJob(app.db.primary)];
  if (app.config.stats.refreshSeconds > 0)
    jobs.push(app.services.stats.refreshJob(app.config.stats.refreshSeconds));
  return jobs;
}

export async function runWorker(config: AppConfig): Promise<void> {
  const logger = createLogger(config.log.level);
  const app = await createApp(config, { logger });
  const scheduler = new Scheduler({ pool: app.db.primary, logger });
  closeWithGrace({ delay: config.http.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'worker stopping after an error');
    else logger.info({ signal }, 'worker stopping');
    await scheduler.stop();
    await app.close();
  });
  await app.startBackground();
  const jobs = workerJobs(app);
  scheduler.start(jobs);
  logger.info({ jobs: jobs.map((j) => j.name) }, 'worker started');
}
