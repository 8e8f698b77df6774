/**
 * The embedded zero-config mode's extras, on top of the app: the database is migrated at start
 * (nobody else will), a first start creates an admin key kept in the data directory, and an empty
 * catalog gets the demo products. Nothing here runs against a configured database.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import type { App } from '../app.ts';

export const isEmbedded = (config: AppConfig): boolean => config.database.mode === 'embedded';

/**
 * Creates the dev admin key on a first start and loads the demo catalog into an empty database.
 * Returns the key in clear when it was created now (shown once).
 */
export async function prepareEmbedded(
  app: App,
  logger: Logger,
  options: { seedDemo: boolean },
): Promise<{ devAdminKey?: string }> {
  if (!isEmbedded(app.config)) return {};
  const devAdminKey = await ensureDevAdminKey(app);
  const demo = app.config.seed.demoProducts;
  if (options.seedDemo && demo > 0 && (await app.services.catalog.countLive()) === 0) {
    logger.info({ products: demo }, 'loading the demo catalog');
    await app.services.seed.seed({
      products: demo,
      seed: 1,
      onBatch: (batch) => app.services.search.sync(batch.productIds),
    });
  }
  return devAdminKey ? { devAdminKey } : {};
}

/** In embedded mode a first start creates an admin key and keeps it (readable by this user only). */
async function ensureDevAdminKey(app: App): Promise<string | undefined> {
  if (await app.services.adminKeys.hasAny()) return undefined;
  const { key } = await app.services.adminKeys.create({ name: 'embedded dev key', scopes: ['*'] });
  await mkdir(app.config.dataDir, { recursive: true });
  await writeFile(devKeyFile(app.config), key + '\n', { mode: 0o600 });
  return key;
}

export const devKeyFile = (config: AppConfig): string => path.join(config.dataDir, 'dev-admin-key');

/** The dev key file, if a previous embedded start wrote one. */
export async function readDevAdminKey(config: AppConfig): Promise<string | undefined> {
  try {
    return (await readFile(devKeyFile(config), 'utf8')).trim();
  } catch {
    return undefined;
  }
}
