/** PostgreSQL: embedded or external (URL or host and parts), the read replica, the pools, the tools. */
import path from 'node:path';
import { z } from 'zod';
import type { PoolSettings } from '../platform/db/pool.ts';
import type { DatabaseTarget } from '../platform/db/resolve.ts';
import { ConfigError, int, postgresUrl, type EnvOf } from './kit.ts';

export const databaseEnv = {
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_READ_URL: postgresUrl.optional(),
  DB_HOST: z.string().min(1).optional(),
  DB_PORT: int(1, 65535).default(5432),
  DB_NAME: z.string().min(1).default('shopflow'),
  DB_USER: z.string().min(1).default('postgres'),
  DB_PASSWORD: z.string().optional(),
  DB_READ_HOST: z.string().min(1).optional(),
  DB_SSL_MODE: z.enum(['disable', 'require', 'verify-full']).optional(),
  DB_SSL_ROOT_CERT: z.string().min(1).optional(),
  DB_POOL_MAX: int(1, 1000).default(20),
  DB_IDLE_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  DB_CONNECTION_TIMEOUT_MS: int(0, 600_000).default(2_000),
  DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  MIGRATION_LOCK_TIMEOUT_MS: int(0, 600_000).default(5_000),
  BACKUP_VERIFY_DB_HOST: z.string().min(1).optional(),
  BACKUP_VERIFY_DB_USER: z.string().min(1).optional(),
  BACKUP_VERIFY_DB_PASSWORD: z.string().min(1).optional(),
  DB_APP_USER: z.string().min(1).optional(),
  DB_APP_PASSWORD: z.string().min(1).optional(),
  DB_MIGRATE_USER: z.string().min(1).optional(),
  DB_MIGRATE_PASSWORD: z.string().min(1).optional(),
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  SEED_DEMO_PRODUCTS: int(0, 10_000_000).default(1000),
  PG_BIN_DIR: z.string().min(1).optional(),
  PATH: z.string().default(''),
};

export type DatabaseConfig = DatabaseTarget;

export interface DatabaseSection {
  database: DatabaseConfig;
  readReplicaUrl?: string;
  /** The separate server `backup verify` restores onto (same port, credentials and TLS as the primary). */
  backupVerifyHost?: string;
  /** Who `backup verify` connects to that server as (it creates and drops a scratch database); default the primary's user. */
  backupVerifyLogin?: { user: string; password: string };
  /** `migrate roles`: the login users it creates for the app and the migrations (src/platform/db/roles.ts). */
  databaseRoles?: { app: { user: string; password: string }; migrate: { user: string; password: string } };
  pool: PoolSettings;
  /** `migrate up/down`: how long a migration waits for a lock (its statements have no limit). */
  migrationLockTimeoutMillis: number;
  seed: { demoProducts: number };
  /** Where pg_dump and pg_restore of PostgreSQL 15 are, when not on the PATH. */
  pgBinDir?: string;
  /** The PATH external tools (pg_dump, pg_restore) are looked for on. */
  toolPath: string;
}

type DatabaseEnv = EnvOf<typeof databaseEnv>;

/** Neither DATABASE_URL nor DB_HOST: the embedded PostgreSQL. */
export const isEmbedded = (e: DatabaseEnv) => !e.DATABASE_URL && !e.DB_HOST;

export function databaseConfig(e: DatabaseEnv, dataDir: string): DatabaseSection {
  if (e.DATABASE_URL && e.DB_HOST)
    throw new ConfigError(['DATABASE_URL and DB_HOST are both set: choose one']);
  return {
    database: target(e, dataDir),
    ...(e.DATABASE_READ_URL
      ? { readReplicaUrl: e.DATABASE_READ_URL }
      : e.DB_HOST && e.DB_READ_HOST
        ? // A replica reached with the primary's credentials and TLS settings (a managed read replica).
          { readReplicaUrl: postgresUrlOf({ ...e, DB_HOST: e.DB_READ_HOST }) }
        : {}),
    pool: {
      max: e.DB_POOL_MAX,
      idleTimeoutMillis: e.DB_IDLE_TIMEOUT_MS,
      connectionTimeoutMillis: e.DB_CONNECTION_TIMEOUT_MS,
      statementTimeoutMillis: e.DB_STATEMENT_TIMEOUT_MS,
    },
    migrationLockTimeoutMillis: e.MIGRATION_LOCK_TIMEOUT_MS,
    ...(e.BACKUP_VERIFY_DB_HOST ? { backupVerifyHost: e.BACKUP_VERIFY_DB_HOST } : {}),
    ...(e.BACKUP_VERIFY_DB_USER && e.BACKUP_VERIFY_DB_PASSWORD
      ? { backupVerifyLogin: { user: e.BACKUP_VERIFY_DB_USER, password: e.BACKUP_VERIFY_DB_PASSWORD } }
      : {}),
    ...(e.DB_APP_USER && e.DB_APP_PASSWORD && e.DB_MIGRATE_USER && e.DB_MIGRATE_PASSWORD
      ? {
          databaseRoles: {
            app: { user: e.DB_APP_USER, password: e.DB_APP_PASSWORD },
            migrate: { user: e.DB_MIGRATE_USER, password: e.DB_MIGRATE_PASSWORD },
          },
        }
      : {}),
    seed: { demoProducts: e.SEED_DEMO_PRODUCTS },
    ...(e.PG_BIN_DIR ? { pgBinDir: e.PG_BIN_DIR } : {}),
    toolPath: e.PATH,
  };
}

function target(e: DatabaseEnv, dataDir: string): DatabaseConfig {
  if (e.DATABASE_URL)
    return {
      mode: 'external',
      connectionString: e.DATABASE_URL,
      port: e.DB_PORT,
      database: e.DB_NAME,
      user: e.DB_USER,
    };
  if (e.DB_HOST)
    return {
      mode: 'external',
      host: e.DB_HOST,
      port: e.DB_PORT,
      database: e.DB_NAME,
      user: e.DB_USER,
      ...(e.DB_PASSWORD !== undefined ? { password: e.DB_PASSWORD } : {}),
      ...(e.DB_SSL_MODE ? { sslMode: e.DB_SSL_MODE } : {}),
      ...(e.DB_SSL_ROOT_CERT ? { sslRootCert: e.DB_SSL_ROOT_CERT } : {}),
    };
  return {
    mode: 'embedded',
    dataDir: path.join(dataDir, 'pg'),
    port: e.EMBEDDED_PG_PORT,
    database: 'shopflow',
  };
}

/** The connection URL of DB_HOST and its companions, TLS settings as libpq parameters. */
function postgresUrlOf(e: DatabaseEnv): string {
  const u = new URL(`postgres://${e.DB_HOST}:${e.DB_PORT}/${encodeURIComponent(e.DB_NAME)}`);
  u.username = encodeURIComponent(e.DB_USER);
  if (e.DB_PASSWORD) u.password = encodeURIComponent(e.DB_PASSWORD);
  if (e.DB_SSL_MODE) u.searchParams.set('sslmode', e.DB_SSL_MODE);
  if (e.DB_SSL_ROOT_CERT) u.searchParams.set('sslrootcert', e.DB_SSL_ROOT_CERT);
  return u.toString();
}
