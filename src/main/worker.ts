import closeWithGrace from 'close-with-grace';
import type { AppConfig } from '../config.ts';
import { createApp } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { isEmbedded } from './embedded.ts';

/** `shopflow worker`: the modules' consumers and jobs and the outbox relay, without the API. */
export async function runWorker(config: AppConfig): Promise<void> {
  const logger = createLogger(config.log.level);
  const app = await createApp(config, { logger, migrate: isEmbedded(config) });
  closeWithGrace({ delay: config.http.shutdownGraceMs }, async ({ signal, err }) => {
    if (err) logger.error({ err }, 'worker stopping after an error');
    else logger.info({ signal }, 'worker stopping');
    await app.close();
  });
  await app.worker.start();
}
