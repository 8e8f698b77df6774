import closeWithGrace from 'close-with-grace';
import path from 'node:path';
import type { AppConfig } from '../config.ts';
import { createApp, readDevAdminKey } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { Scheduler } from '../platform/jobs/scheduler.ts';
import { workerJobs } from './worker.ts';
import { VERSION } from '../version.ts';

export async function runServe(config: AppConfig, options: { migrate: boolean }): Promise<void> {
  const logger = createLogger(config.log.level);
  const app = await createApp(config, { logger, migrate: options.migrate });
  const server = await app.buildServer();
  const scheduler = config.role === 'all' ? new Scheduler({ pool: app.db.primary, logger }) : undefined;

  closeWithGrace({ delay: config.http.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down: draining requests');
    await server.close(); // stops accepting, lets in-flight requests finish
    await scheduler?.stop();
    await app.close();
  });

  const address = await server.listen({ host: config.http.host, port: config.http.port });
  if (scheduler) {
    await app.startBackground();
    scheduler.start(workerJobs(app));
  }

  const lines = [`ShopFlow ${VERSION} listening on ${address}`];
  if (config.database.mode === 'embedded') {
    lines.push(
      `  database:      embedded PostgreSQL 15, data in ${path.relative(process.cwd(), config.database.dataDir) || '.'} (port ${config.database.port})`,
    );
    const key = app.devAdminKey ?? (await readDevAdminKey(config));
    const keyFile = path.relative(process.cwd(), path.join(config.dataDir, 'dev-admin-key'));
    if (app.devAdminKey) lines.push(`  admin dev key: ${key} (saved in ${keyFile})`);
    else lines.push(`  admin dev key: in ${keyFile}`);
  } else {
    lines.push('  database:      external PostgreSQL');
  }
  lines.push(
    `  API docs:      ${address}/docs`,
    `  health:        ${address}/health/ready`,
    '  stop:          Ctrl+C (or SIGTERM); in-flight requests finish first',
  );
  process.stdout.write(lines.join('\n') + '\n');
}
