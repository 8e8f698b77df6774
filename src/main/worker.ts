import closeWithGrace from 'close-with-grace';
import type { AppConfig } from '../config.ts';
import { createApp } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { isEmbedded } from './embedded.ts';

/**
 * `shopflow worker`: the modules' consumers and jobs and the outbox relay, without the API. It
 * listens on HOST:PORT for health and metrics only.
 */
export async function runWorker(config: AppConfig): Promise<void> {
  const logger = createLogger(config.log.level);
  const app = await createApp(config, { logger, migrate: isEmbedded(config) });
  const health = await app.buildHealthServer();
  closeWithGrace({ delay: config.http.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'worker stopping after an error');
    else logger.info({ signal }, 'worker stopping');
    await health.close();
    await app.close();
  });
  await app.worker.start();
  const address = await health.listen({ host: config.http.host, port: config.http.port });
  process.stdout.write(`ShopFlow worker running; health and metrics listening on ${address}\n`);
}
