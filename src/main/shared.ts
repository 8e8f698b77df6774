import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import { createApp, type App } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { createPool } from '../platform/db/pool.ts';
import type pg from 'pg';
import { resolveDatabase } from '../platform/db/resolve.ts';
import { isEmbedded } from './embedded.ts';

/** Logs of one-shot commands go to stderr, so stdout carries only their result. */
export function commandLogger(config: AppConfig): Logger {
  return createLogger(config.log.level === 'info' ? 'warn' : config.log.level, process.stderr);
}

/**
 * The app for one command: the same composition root as the server (the embedded database is
 * migrated, since nobody else will), closed when `fn` settles.
 */
export async function withApp<T>(config: AppConfig, fn: (app: App) => Promise<T>): Promise<T> {
  const app = await createApp(config, { logger: commandLogger(config), migrate: isEmbedded(config) });
  try {
    return await fn(app);
  } finally {
    await app.close();
  }
}

/**
 * A bare pool on the configured database, for the one command that must run before the schema
 * exists (migrate): starts the embedded database if need be, closes everything after `fn`.
 */
export async function withDatabase<T>(
  config: AppConfig,
  fn: (pool: pg.Pool, url: string) => Promise<T>,
): Promise<T> {
  const resolved = await resolveDatabase(config.database, commandLogger(config));
  const pool = createPool(resolved.pool, { ...config.pool, max: 4 }, 'shopflow-cli');
  try {
    return await fn(pool, resolved.url);
  } finally {
    await pool.end();
    await resolved.embedded?.stop();
  }
}
