/**
 * ioredis clients, standalone or cluster, tuned to fail fast: short command timeouts and no
 * offline queue, so a Redis outage turns into quick errors the callers degrade on, not into
 * requests that hang. Reconnection goes on in the background forever, with jittered backoff.
 */
import { Cluster, Redis, type RedisOptions } from 'ioredis';
import { backoffDelay } from '../backoff.ts';

export type RedisClient = Redis | Cluster;

export type RedisTarget =
  { url: string } | { clusterNodes: { host: string; port: number }[]; tls?: boolean; password?: string };

export function createRedis(
  target: RedisTarget,
  options: { commandTimeoutMs: number; name?: string; keyPrefix?: string },
): RedisClient {
  const common: RedisOptions = {
    // Applied by ioredis to every key of every command (scripts' KEYS too), not to channels.
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    commandTimeout: options.commandTimeoutMs,
    connectTimeout: 2000,
    maxRetriesPerRequest: 1,
    enableOfflineQueue: false,
    retryStrategy: (times) => backoffDelay(times, { baseMs: 100, maxMs: 2000 }),
    connectionName: options.name ?? 'shopflow',
  };
  if ('url' in target) {
    const client = new Redis(target.url, { ...common, enableAutoPipelining: true });
    client.on('error', () => undefined); // surfaced through command errors and health checks
    return client;
  }
  const cluster = new Cluster(target.clusterNodes, {
    redisOptions: {
      ...common,
      ...(target.tls ? { tls: {} } : {}),
      ...(target.password ? { password: target.password } : {}),
    },
    // A TLS cluster (ElastiCache with in-transit encryption) must be reached by the names in its
    // certificates, not by the addresses they resolve to.
    ...(target.tls
      ? {
          dnsLookup: (address: string, callback: (err: null, address: string) => void) =>
            callback(null, address),
        }
      : {}),
    ...(options.keyPrefix ? { keyPrefix: options.keyPrefix } : {}),
    enableOfflineQueue: false,
    enableAutoPipelining: true,
    clusterRetryStrategy: (times) => backoffDelay(times, { baseMs: 100, maxMs: 2000 }),
    slotsRefreshTimeout: 2000,
  });
  cluster.on('error', () => undefined);
  return cluster;
}

/**
 * A second connection for SUBSCRIBE (a subscribed connection cannot run other commands). Unlike
 * the command connection it queues while offline: a subscription made before Redis is reachable
 * takes effect when it is, and ioredis re-subscribes by itself after every reconnect.
 */
export function duplicateForSubscribe(client: RedisClient): RedisClient {
  const dup =
    client instanceof Cluster
      ? client.duplicate(undefined, {
          enableOfflineQueue: true,
          redisOptions: { ...client.options.redisOptions, commandTimeout: undefined },
        })
      : client.duplicate({ enableOfflineQueue: true, commandTimeout: undefined, maxRetriesPerRequest: null });
  dup.on('error', () => undefined);
  return dup;
}

/** Closes politely when connected, at once otherwise (QUIT would wait for a connection). */
export async function closeRedis(client: RedisClient): Promise<void> {
  if (client.status === 'ready') await client.quit().catch(() => client.disconnect());
  else client.disconnect();
}

/** Resolves when the client is ready, or after `timeoutMs` (the app then starts degraded). */
export function waitReady(client: RedisClient, timeoutMs: number): Promise<boolean> {
  if (client.status === 'ready') return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      resolve(false);
    }, timeoutMs);
    const onReady = () => {
      clearTimeout(timer);
      resolve(true);
    };
    client.once('ready', onReady);
  });
}
