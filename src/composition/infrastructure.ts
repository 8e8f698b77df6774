/**
 * The composition root's first half: every adapter the config names (database pools, Redis and
 * the caches on it, sessions, rate limiters, search engine, event bus and outbox relay, object
 * store), opened in order and handed to `resources`, which closes them in reverse.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import { createDatabase, createPool, type Database } from '../platform/db/pool.ts';
import { resolveDatabase, type ResolvedDatabase } from '../platform/db/resolve.ts';
import { migrate } from '../platform/db/migrations.ts';
import type { Resources } from '../platform/lifecycle.ts';
import {
  createMetrics,
  registerJobFailureMetrics,
  registerOutboxMetrics,
  registerPoolMetrics,
  type Metrics,
} from '../platform/metrics.ts';
import {
  closeRedis,
  createRedis,
  duplicateForSubscribe,
  waitReady,
  type RedisClient,
} from '../platform/redis/client.ts';
import { RedisCacheStore } from '../platform/cache/redis.cache-store.ts';
import { MemoryCacheStore } from '../platform/cache/memory.cache-store.ts';
import { CacheAside } from '../platform/cache/cache-aside.ts';
import { NearCacheStore } from '../platform/cache/near.cache-store.ts';
import { BroadcastCache } from '../platform/cache/broadcast-cache.ts';
import type { CacheStore } from '../platform/cache/cache-store.ts';
import { LocalPubSub, RedisPubSub, type PubSub } from '../platform/pubsub/pubsub.ts';
import { FlexibleRateLimiter, type RateLimiter } from '../platform/ratelimit/rate-limiter.ts';
import type { EventBus } from '../platform/events/bus.ts';
import { LocalEventBus } from '../platform/events/local.bus.ts';
import { RabbitMqEventBus } from '../platform/events/rabbitmq.bus.ts';
import { OutboxRelay } from '../platform/events/relay.ts';
import type { SearchEngine } from '../platform/search/search-engine.ts';
import { PostgresSearchEngine } from '../platform/search/postgres.search-engine.ts';
import type { ObjectStore } from '../platform/storage/object-store.ts';
import { LocalObjectStore } from '../platform/storage/local.object-store.ts';
import { S3ObjectStore } from '../platform/storage/s3.object-store.ts';
import { PostgresSessionStore } from '../platform/sessions/postgres.session-store.ts';
import { RedisSessionStore } from '../platform/sessions/redis.session-store.ts';
import { MemorySessionStore } from '../platform/sessions/memory.session-store.ts';
import type { SessionStore } from '../platform/sessions/session-store.ts';
import { GuestSessions } from '../platform/sessions/guest-sessions.ts';
import { isProductPageKey } from '../modules/catalog/catalog-cache.ts';

export interface Infrastructure {
  resolved: ResolvedDatabase;
  db: Database;
  primary: pg.Pool;
  replica?: pg.Pool;
  metrics: Metrics;
  redis?: RedisClient;
  pubsub: PubSub;
  /** Redis (with the near cache in front of it), or in-process. */
  cacheStore: CacheStore;
  /** The catalog's cache-aside layer over {@link cacheStore}. */
  cacheAside: CacheAside;
  cacheCounter: ReturnType<Metrics['counter']>;
  /** Search answers held in process, emptied everywhere on index writes. */
  searchResults: BroadcastCache<object>;
  sessions: SessionStore;
  /** Where guest sessions are made, within each address's hourly budget. */
  guests: GuestSessions;
  rateLimiters: { store: RateLimiter; admin: RateLimiter };
  /** A rate limiter on Redis when configured, else in process. */
  limiter(limit: number, options: { prefix: string; windowSeconds?: number }): RateLimiter;
  engine: SearchEngine;
  bus: EventBus;
  relay: OutboxRelay;
  objects: ObjectStore;
  /** Pub/sub subscriptions under way; startup waits for them briefly (see {@link settleSubscriptions}). */
  subscribing: Promise<void>[];
}

/** Opens every adapter; on failure the caller closes `resources`. */
export async function buildInfrastructure(
  config: AppConfig,
  logger: Logger,
  resources: Resources,
  options: { migrate?: boolean },
): Promise<Infrastructure> {
  const data = await openDatabase(config, logger, resources, options);
  const caches = await openCaches(config, logger, resources, data.metrics);
  const limiter = (limit: number, o: { prefix: string; windowSeconds?: number }) =>
    new FlexibleRateLimiter(limit, { ...o, ...(caches.redis ? { redis: caches.redis } : {}) });
  const engine: SearchEngine = resources.add(
    'search engine',
    await createSearchEngine(config, data.db),
    (e) => e.close(),
  );
  const bus: EventBus = resources.add(
    'event bus',
    config.amqpUrl ? new RabbitMqEventBus(config.amqpUrl, logger) : new LocalEventBus(logger),
    (b) => b.close(),
  );
  const relay = resources.add(
    'outbox relay',
    new OutboxRelay({
      pool: data.primary,
      bus,
      logger,
      published: data.metrics.counter('shopflow_events_published_total', 'Events relayed from the outbox', [
        'type',
      ]),
      publishFailures: data.metrics.counter(
        'shopflow_events_publish_failures_total',
        'Publishes of outbox events the broker did not confirm (retried)',
      ),
    }),
    (r) => r.stop(),
  );
  const perHour = config.sessions.guestsPerAddressPerHour;
  const sessions = openSessions(config, data.db, caches.redis);
  return {
    ...data,
    ...caches,
    sessions,
    guests: new GuestSessions({
      store: sessions,
      ...(perHour > 0
        ? { perAddress: limiter(perHour, { prefix: 'rl:guest-sessions', windowSeconds: 3600 }) }
        : {}),
    }),
    rateLimiters: {
      store: limiter(config.rateLimit.perMinute, { prefix: 'rl:store' }),
      admin: limiter(config.rateLimit.adminPerMinute, { prefix: 'rl:admin' }),
    },
    limiter,
    engine,
    bus,
    relay,
    objects: await createObjectStore(config),
  };
}

/** Waits for the pub/sub subscriptions, at most 2 s: a Redis outage delays startup once, not per subscriber. */
export async function settleSubscriptions(infra: Infrastructure): Promise<void> {
  await Promise.race([Promise.all(infra.subscribing), new Promise((r) => setTimeout(r, 2000).unref())]);
}

/** The database (embedded or external, migrated on request), its pools and their metrics. */
async function openDatabase(
  config: AppConfig,
  logger: Logger,
  resources: Resources,
  options: { migrate?: boolean },
) {
  const resolved = await resolveDatabase(config.database, logger);
  if (resolved.embedded) resources.add('embedded PostgreSQL', resolved.embedded, (e) => e.stop());
  if (options.migrate) {
    const ran = await migrate({ databaseUrl: resolved.url, direction: 'up', log: (l) => logger.debug(l) });
    if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
  }
  const primary = createPool(resolved.pool, config.pool, `shopflow-${config.role}`);
  const replica = config.readReplicaUrl
    ? createPool({ connectionString: config.readReplicaUrl }, config.pool, `shopflow-${config.role}-read`)
    : undefined;
  const db = resources.add('database pools', createDatabase(primary, replica), (d) => d.close());
  const metrics = createMetrics();
  registerPoolMetrics(metrics, replica ? { primary, replica } : { primary });
  registerOutboxMetrics(metrics, primary);
  registerJobFailureMetrics(metrics, primary);
  return { resolved, db, primary, ...(replica ? { replica } : {}), metrics };
}

/** Redis when configured (else in-process stand-ins): pub/sub, the cache stores, the search results cache. */
async function openCaches(config: AppConfig, logger: Logger, resources: Resources, metrics: Metrics) {
  let redis: RedisClient | undefined;
  if (config.redis) {
    redis = createRedis(config.redis, {
      commandTimeoutMs: config.redisCommandTimeoutMs,
      name: `shopflow-${config.role}`,
      keyPrefix: config.redisKeyPrefix,
    });
    resources.add('redis', redis, closeRedis);
    if (!(await waitReady(redis, 3000)))
      logger.warn('Redis is not reachable yet: starting degraded (cache bypassed)');
  }
  const pubsub: PubSub = resources.add(
    'pub/sub',
    redis ? new RedisPubSub(redis, duplicateForSubscribe(redis), config.redisKeyPrefix) : new LocalPubSub(),
    (p) => p.close(),
  );
  // With Redis, product pages are also held in process (evicted everywhere on change: see
  // NearCacheStore); every role publishes its evictions, so every role uses it.
  const near =
    redis && config.cache.near.maxEntries > 0
      ? new NearCacheStore(new RedisCacheStore(redis), pubsub, {
          maxEntries: config.cache.near.maxEntries,
          ttlMs: config.cache.near.ttlSeconds * 1000,
          holds: isProductPageKey,
        })
      : undefined;
  const cacheStore: CacheStore = resources.add(
    'cache store',
    near ?? (redis ? new RedisCacheStore(redis) : new MemoryCacheStore()),
    (c) => c.close(),
  );
  // Pub/sub subscriptions start as soon as Redis is reachable; startup waits for all of them
  // together, and only briefly (settleSubscriptions).
  const subscribing: Promise<void>[] = [];
  const subscribe = (started: Promise<void>, what: string) =>
    subscribing.push(started.catch((err: unknown) => logger.warn({ err }, `${what} not subscribed`)));
  if (near) subscribe(near.start(), 'near cache');
  const cacheCounter = metrics.counter(
    'shopflow_cache_requests_total',
    'Cache lookups by cache and result (hit, miss, error, bypass)',
    ['cache', 'result'],
  );
  const cacheAside = resources.add(
    'catalog cache',
    new CacheAside(cacheStore, 'catalog', {
      ttlSeconds: config.cache.ttlSeconds,
      negativeTtlSeconds: config.cache.negativeTtlSeconds,
      logger,
      counter: cacheCounter,
    }),
    (c) => c.close(),
  );
  const searchResults = resources.add(
    'search cache',
    new BroadcastCache<object>(pubsub, {
      name: 'search',
      maxEntries: config.cache.search.maxEntries,
      ttlMs: config.cache.search.ttlSeconds * 1000,
      counter: cacheCounter,
    }),
    (c) => c.close(),
  );
  subscribe(searchResults.start(), 'search cache');
  return {
    ...(redis ? { redis } : {}),
    pubsub,
    cacheStore,
    cacheAside,
    cacheCounter,
    searchResults,
    subscribing,
  };
}

function openSessions(config: AppConfig, db: Database, redis: RedisClient | undefined): SessionStore {
  if (config.sessionStore === 'redis' && redis) return new RedisSessionStore(redis);
  if (config.sessionStore === 'postgres') return new PostgresSessionStore({ db });
  return new MemorySessionStore(Date.now, { maxSessions: config.sessions.memoryMax });
}

/** The object store the config names: S3 (or compatible), or the local directory. */
export async function createObjectStore(config: AppConfig): Promise<ObjectStore> {
  const st = config.storage;
  if (st.driver === 's3') {
    return new S3ObjectStore({
      ...(st.s3.endpoint ? { endpoint: st.s3.endpoint } : {}),
      region: st.s3.region,
      forcePathStyle: st.s3.forcePathStyle,
      buckets: st.buckets,
    });
  }
  return new LocalObjectStore({
    dir: st.dir,
    baseUrl: st.publicBaseUrl,
    secret: st.signingSecret ?? (await localSigningSecret(config)),
    buckets: st.buckets,
  });
}

/** The local driver's HMAC key: generated once into the data directory (readable by this user only). */
async function localSigningSecret(config: AppConfig): Promise<string> {
  const file = path.join(config.dataDir, 'storage-signing-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('base64url');
    await mkdir(config.dataDir, { recursive: true });
    await writeFile(file, secret + '\n', { mode: 0o600, flag: 'wx' }).catch(() => undefined);
    return (await readFile(file, 'utf8')).trim();
  }
}

async function createSearchEngine(config: AppConfig, db: Database): Promise<SearchEngine> {
  if (config.search.engine === 'opensearch') {
    const { OpenSearchEngine } = await import('../platform/search/opensearch.search-engine.ts');
    return new OpenSearchEngine({ node: config.search.url!, index: config.search.index });
  }
  return new PostgresSearchEngine({ pool: db.primary, read: db.read });
}
