/**
 * Where the database is: an external PostgreSQL (a URL or host/port/user), or the embedded one,
 * started here on demand.
 */
import type pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './embedded.ts';

export type DatabaseTarget =
  | {
      mode: 'external';
      connectionString?: string;
      host?: string;
      port: number;
      database: string;
      user: string;
      password?: string;
      /** TLS to the server (libpq's sslmode); with `verify-full`, the CA bundle in `sslRootCert`. */
      sslMode?: 'disable' | 'require' | 'verify-full';
      sslRootCert?: string;
    }
  | { mode: 'embedded'; dataDir: string; port: number; database: string };

export interface ResolvedDatabase {
  /** Connection string of the primary (with the embedded password when embedded). */
  url: string;
  pool: pg.PoolConfig;
  embedded?: EmbeddedPostgresHandle;
}

/** Pool settings and a connection string for an external database, or for a started embedded one. */
export function connectionConfig(
  target: DatabaseTarget,
  embeddedUrl?: string,
): pg.PoolConfig & { url: string } {
  if (target.mode === 'embedded') {
    if (!embeddedUrl) throw new Error('embedded database not started');
    return { connectionString: embeddedUrl, url: embeddedUrl };
  }
  if (target.connectionString)
    return { connectionString: target.connectionString, url: target.connectionString };
  const auth =
    target.password === undefined
      ? encodeURIComponent(target.user)
      : `${encodeURIComponent(target.user)}:${encodeURIComponent(target.password)}`;
  if (target.sslMode && target.sslMode !== 'disable') {
    // As a connection string, so pg and the PostgreSQL tools (backups) read the same TLS settings.
    const u = new URL(
      `postgres://${auth}@${target.host}:${target.port}/${encodeURIComponent(target.database)}`,
    );
    u.searchParams.set('sslmode', target.sslMode);
    if (target.sslRootCert) u.searchParams.set('sslrootcert', target.sslRootCert);
    return { connectionString: u.toString(), url: u.toString() };
  }
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    ...(target.password === undefined ? {} : { password: target.password }),
    url: `postgres://${auth}@${target.host}:${target.port}/${encodeURIComponent(target.database)}`,
  };
}

/** Starts the embedded database when the target says so; the caller stops it (`embedded.stop()`). */
export async function resolveDatabase(
  target: DatabaseTarget,
  log: { info(o: object, msg: string): void; debug(o: object, msg: string): void },
): Promise<ResolvedDatabase> {
  let embedded: EmbeddedPostgresHandle | undefined;
  if (target.mode === 'embedded') {
    log.info({ dataDir: target.dataDir, port: target.port }, 'starting embedded PostgreSQL');
    embedded = await startEmbeddedPostgres({
      dataDir: target.dataDir,
      port: target.port,
      database: target.database,
      onLog: (line) => log.debug({ component: 'embedded-postgres' }, line),
    });
  }
  const { url, ...pool } = connectionConfig(target, embedded?.url);
  return { url, pool, ...(embedded ? { embedded } : {}) };
}
