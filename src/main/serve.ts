import closeWithGrace from 'close-with-grace';
import path from 'node:path';
import type { AppConfig } from '../config.ts';
import { createApp } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { VERSION } from '../version.ts';
import { devKeyFile, isEmbedded, prepareEmbedded, readDevAdminKey } from './embedded.ts';

export async function runServe(config: AppConfig, options: { migrate: boolean }): Promise<void> {
  const logger = createLogger(config.log.level);
  const embedded = isEmbedded(config);
  const app = await createApp(config, { logger, migrate: options.migrate || embedded });
  const prepared = await prepareEmbedded(app, logger, { seedDemo: true }).catch(async (error: unknown) => {
    await app.close();
    throw error;
  });
  const server = await app.buildServer();

  closeWithGrace({ delay: config.http.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'shutting down after an error');
    else logger.info({ signal }, 'shutting down: draining requests');
    await server.close(); // stops accepting, lets in-flight requests finish
    await app.close(); // the worker side (if running) first, then everything else
  });

  const address = await server.listen({ host: config.http.host, port: config.http.port });
  if (config.role === 'all') await app.worker.start();

  const lines = [`ShopFlow ${VERSION} listening on ${address}`];
  if (config.database.mode === 'embedded') {
    lines.push(
      `  database:      embedded PostgreSQL 15, data in ${path.relative(process.cwd(), config.database.dataDir) || '.'} (port ${config.database.port})`,
    );
    const keyFile = path.relative(process.cwd(), devKeyFile(config));
    if (prepared.devAdminKey) lines.push(`  admin dev key: ${prepared.devAdminKey} (saved in ${keyFile})`);
    else if (await readDevAdminKey(config)) lines.push(`  admin dev key: in ${keyFile}`);
  } else {
    lines.push('  database:      external PostgreSQL');
  }
  lines.push(
    config.payments.provider === 'test'
      ? '  payments:      test provider (no money moves; set PAYMENT_PROVIDER for a real one)'
      : `  payments:      ${config.payments.provider === 'none' ? 'none configured (payments answer 503)' : config.payments.provider}`,
    `  API docs:      ${address}/docs`,
    `  health:        ${address}/health/ready`,
    '  stop:          Ctrl+C (or SIGTERM); in-flight requests finish first',
  );
  process.stdout.write(lines.join('\n') + '\n');
}
