/**
 * PostgreSQL pools: a primary for writes and an optional read replica for read-only queries.
 */
import pg from 'pg';

export type Pool = pg.Pool;
export type PoolClient = pg.PoolClient;
/** Anything that can run a query: a pool or a client inside a transaction. */
export type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export interface PoolSettings {
  max: number;
  idleTimeoutMillis: number;
  connectionTimeoutMillis: number;
  statementTimeoutMillis: number;
}

export interface Database {
  /** Primary: every write and every read that must see its own writes. */
  readonly primary: pg.Pool;
  /** Replica for read-only queries that tolerate lag; the primary when none is configured. */
  readonly read: pg.Pool;
  close(): Promise<void>;
}

/**
 * How our pools parse column types. Set per pool (pg's `types` option), so that importing this
 * file changes nothing for other users of `pg` in the process.
 */
const parsers = new Map<number, (value: string) => unknown>([
  // int8 (COUNT, SUM, bigserial) as JS numbers: our counts stay far below 2^53.
  [pg.types.builtins.INT8, (v) => Number.parseInt(v, 10)],
  // numeric (AVG) as numbers too; money is integer cents and never numeric.
  [pg.types.builtins.NUMERIC, (v) => Number.parseFloat(v)],
]);

export const typeParsers: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    (format ?? 'text') === 'text' && parsers.has(oid)
      ? parsers.get(oid)
      : (pg.types.getTypeParser(oid, format ?? 'text') as (
          value: string,
        ) => unknown)) as pg.CustomTypesConfig['getTypeParser'],
};

export function createPool(
  connection: pg.PoolConfig,
  settings: PoolSettings,
  applicationName = 'shopflow',
): pg.Pool {
  const pool = new pg.Pool({
    ...connection,
    types: typeParsers,
    max: settings.max,
    idleTimeoutMillis: settings.idleTimeoutMillis,
    connectionTimeoutMillis: settings.connectionTimeoutMillis,
    statement_timeout: settings.statementTimeoutMillis || undefined,
    // The server ends a statement at statement_timeout; when its answer cannot arrive at all (a
    // network cut that drops packets instead of closing the connection), the client gives up a
    // little later instead of waiting for TCP to notice, which can take many minutes.
    query_timeout: settings.statementTimeoutMillis ? settings.statementTimeoutMillis + 5000 : undefined,
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
    application_name: applicationName,
  });
  // An idle client losing its connection (e.g. a server restart) must not crash the process;
  // the pool discards it and the next checkout opens a new one.
  pool.on('error', () => undefined);
  return pool;
}

export function createDatabase(primary: pg.Pool, read?: pg.Pool): Database {
  return {
    primary,
    read: read ?? primary,
    async close() {
      await Promise.all([primary.end(), read && read !== primary ? read.end() : undefined]);
    },
  };
}

/** A client borrowed from a pool, listened to for errors until it is given back. */
export interface Borrowed {
  client: pg.PoolClient;
  /** Whether the connection failed while held (it will be discarded on release). */
  readonly broken: boolean;
  /** Gives the client back; a broken one (or `discard`) is closed instead of pooled. */
  release(discard?: boolean): void;
}

/**
 * Borrows a client for longer than one query (a lock held for a job, a rebuild). pg stops
 * listening for errors on a client while it is checked out, so a connection that dies meanwhile
 * (server restart, network cut, terminated backend) would raise an unhandled 'error' event and
 * end the process. Borrowed here, it is listened to until released.
 */
export async function borrowClient(pool: pg.Pool): Promise<Borrowed> {
  const client = await pool.connect();
  let broken = false;
  let released = false;
  const onError = () => {
    broken = true;
  };
  client.on('error', onError);
  return {
    client,
    get broken() {
      return broken;
    },
    release(discard = false) {
      if (released) return;
      released = true;
      client.off('error', onError);
      client.release(broken || discard);
    },
  };
}

/** Runs `fn` with a borrowed client (see {@link borrowClient}) and gives it back, whatever happens. */
export async function withClient<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  options: { discardAfter?: boolean } = {},
): Promise<T> {
  const borrowed = await borrowClient(pool);
  try {
    return await fn(borrowed.client);
  } finally {
    borrowed.release(options.discardAfter);
  }
}
