import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import { resolveDatabase } from '../app.ts';
import { createLogger } from '../platform/logger.ts';
import { createPool } from '../platform/db/pool.ts';
import type pg from 'pg';
import type { EmbeddedPostgresHandle } from '../platform/db/embedded.ts';
import { migrate } from '../platform/db/migrations.ts';

/** Logs of one-shot commands go to stderr, so stdout carries only their result. */
export function commandLogger(config: AppConfig): Logger {
  return createLogger(config.log.level === 'info' ? 'warn' : config.log.level, process.stderr);
}

/**
 * Runs `fn` with a pool on the configured database (starting the embedded one if need be, and
 * migrating it, since nobody else will), then closes everything.
 */
export async function withDatabase<T>(
  config: AppConfig,
  fn: (pool: pg.Pool, url: string, embedded?: EmbeddedPostgresHandle) => Promise<T>,
  options: { migrateEmbedded?: boolean } = {},
): Promise<T> {
  const logger = commandLogger(config);
  const resolved = await resolveDatabase(config, logger);
  const pool = createPool(resolved.pool, { ...config.pool, max: 4 }, 'shopflow-cli');
  try {
    if (resolved.embedded && (options.migrateEmbedded ?? true)) {
      await migrate({ databaseUrl: resolved.url, direction: 'up' });
    }
    return await fn(pool, resolved.url, resolved.embedded);
  } finally {
    await pool.end();
    await resolved.embedded?.stop();
  }
}
