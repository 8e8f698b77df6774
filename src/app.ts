/**
 * The composition root: builds every adapter and service from the config, by hand, and hands back
 * one object that owns them all and closes them in order.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type pg from 'pg';
import type { AppConfig } from './config.ts';
import { createDatabase, createPool, type Database } from './platform/db/pool.ts';
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from './platform/db/embedded.ts';
import { migrate } from './platform/db/migrations.ts';
import { createMetrics, registerPoolMetrics, type Metrics } from './platform/metrics.ts';
import type { HealthCheck } from './platform/health.ts';
import { buildServer } from './http/server.ts';
import { AdminKeysService } from './modules/admin-keys/admin-keys.service.ts';
import { CatalogService } from './modules/catalog/catalog.service.ts';
import { SeedService } from './modules/seed/seed.service.ts';
import { InventoryService } from './modules/inventory/inventory.service.ts';
import { OrdersService } from './modules/orders/orders.service.ts';
import { CartsService } from './modules/carts/carts.service.ts';
import { CustomersService } from './modules/customers/customers.service.ts';
import { IdempotencyService } from './modules/idempotency/idempotency.service.ts';
import { PostgresSessionStore } from './modules/auth/postgres.session-store.ts';
import { ReviewsService } from './modules/reviews/reviews.service.ts';
import { PaymentsService } from './modules/payments/payments.service.ts';
import { TestPaymentProvider } from './modules/payments/payment-provider.ts';
import { StatsService } from './modules/stats/stats.service.ts';
import type { HttpServices } from './http/server.ts';
import { createRedis, duplicateForSubscribe, waitReady, type RedisClient } from './platform/redis/client.ts';
import { RedisCacheStore } from './platform/cache/redis.cache-store.ts';
import { MemoryCacheStore } from './platform/cache/memory.cache-store.ts';
import { CacheAside } from './platform/cache/cache-aside.ts';
import { NearCacheStore } from './platform/cache/near.cache-store.ts';
import { BroadcastCache } from './platform/cache/broadcast-cache.ts';
import type { CacheStore } from './platform/cache/cache-store.ts';
import { CatalogCache } from './modules/catalog/catalog-cache.ts';
import { RedisSessionStore } from './modules/auth/redis.session-store.ts';
import { MemorySessionStore } from './modules/auth/memory.session-store.ts';
import type { SessionStore } from './modules/auth/session-store.ts';
import { LocalPubSub, RedisPubSub, type PubSub } from './platform/pubsub/pubsub.ts';
import { RealtimeService } from './modules/realtime/realtime.service.ts';
import { FlexibleRateLimiter, type RateLimiter } from './platform/ratelimit/rate-limiter.ts';
import type { EventBus } from './platform/events/bus.ts';
import { LocalEventBus } from './platform/events/local.bus.ts';
import { RabbitMqEventBus } from './platform/events/rabbitmq.bus.ts';
import { OutboxRelay } from './platform/events/relay.ts';
import type { SearchEngine } from './platform/search/search-engine.ts';
import { PostgresSearchEngine } from './platform/search/postgres.search-engine.ts';
import { SearchService } from './modules/search/search.service.ts';
import type { ObjectStore } from './platform/storage/object-store.ts';
import { LocalObjectStore } from './platform/storage/local.object-store.ts';
import { S3ObjectStore } from './platform/storage/s3.object-store.ts';
import { UploadsService } from './modules/uploads/uploads.service.ts';
import { imageUrlBuilder, MediaService } from './modules/media/media.service.ts';
import { InvoicesService } from './modules/invoices/invoices.service.ts';
import { VERSION } from './version.ts';

export interface AppOptions {
  logger: Logger;
  /** Run pending migrations at start (always done on the embedded database). */
  migrate?: boolean;
  /** Load the demo catalog when the database has no products (embedded default). */
  seedDemo?: boolean;
}

export interface App {
  config: AppConfig;
  db: Database;
  /** Connection string of the primary (with the embedded password when embedded). */
  databaseUrl: string;
  embedded?: EmbeddedPostgresHandle;
  metrics: Metrics;
  services: HttpServices & { seed: SeedService };
  /** The shared Redis client, when Redis is configured. */
  redis?: RedisClient;
  rateLimiters?: { store: RateLimiter; admin: RateLimiter };
  bus: EventBus;
  relay: OutboxRelay;
  objects: ObjectStore;
  /** Starts the worker side in this process: the indexer consumer and the outbox relay. */
  startBackground(): Promise<void>;
  healthChecks: HealthCheck[];
  /** Builds the HTTP server (not listening yet). */
  buildServer(): Promise<FastifyInstance>;
  /** Created when the embedded database had no admin key: the key in clear, shown once. */
  devAdminKey?: string;
  close(): Promise<void>;
}

export function connectionConfig(config: AppConfig, embeddedUrl?: string): pg.PoolConfig & { url: string } {
  const db = config.database;
  if (db.mode === 'embedded') {
    if (!embeddedUrl) throw new Error('embedded database not started');
    return { connectionString: embeddedUrl, url: embeddedUrl };
  }
  if (db.connectionString) return { connectionString: db.connectionString, url: db.connectionString };
  const auth =
    db.password === undefined
      ? encodeURIComponent(db.user)
      : `${encodeURIComponent(db.user)}:${encodeURIComponent(db.password)}`;
  return {
    host: db.host,
    port: db.port,
    database: db.database,
    user: db.user,
    ...(db.password === undefined ? {} : { password: db.password }),
    url: `postgres://${auth}@${db.host}:${db.port}/${encodeURIComponent(db.database)}`,
  };
}

/** Starts the embedded database when configured so; otherwise returns nothing. */
export async function resolveDatabase(
  config: AppConfig,
  logger: Logger,
): Promise<{ url: string; pool: pg.PoolConfig; embedded?: EmbeddedPostgresHandle }> {
  let embedded: EmbeddedPostgresHandle | undefined;
  if (config.database.mode === 'embedded') {
    logger.info(
      { dataDir: config.database.dataDir, port: config.database.port },
      'starting embedded PostgreSQL',
    );
    embedded = await startEmbeddedPostgres({
      dataDir: config.database.dataDir,
      port: config.database.port,
      database: config.database.database,
      onLog: (line) => logger.debug({ component: 'embedded-postgres' }, line),
    });
  }
  const { url, ...pool } = connectionConfig(config, embedded?.url);
  return { url, pool, ...(embedded ? { embedded } : {}) };
}

export async function createApp(config: AppConfig, options: AppOptions): Promise<App> {
  const { logger } = options;
  const resolved = await resolveDatabase(config, logger);
  const isEmbedded = resolved.embedded !== undefined;
  try {
    if (options.migrate || isEmbedded) {
      const ran = await migrate({ databaseUrl: resolved.url, direction: 'up', log: (l) => logger.debug(l) });
      if (ran.length) logger.info({ migrations: ran.map((m) => m.name) }, 'migrations applied');
    }
    const primary = createPool(resolved.pool, config.pool, `shopflow-${config.role}`);
    const replica = config.readReplicaUrl
      ? createPool({ connectionString: config.readReplicaUrl }, config.pool, `shopflow-${config.role}-read`)
      : undefined;
    const db = createDatabase(primary, replica);

    const metrics = createMetrics();
    registerPoolMetrics(metrics, replica ? { primary, replica } : { primary });

    let redis: RedisClient | undefined;
    if (config.redis) {
      redis = createRedis(config.redis, {
        commandTimeoutMs: config.redisCommandTimeoutMs,
        name: `shopflow-${config.role}`,
      });
      if (!(await waitReady(redis, 3000)))
        logger.warn('Redis is not reachable yet: starting degraded (cache bypassed)');
    }
    const pubsub: PubSub = redis ? new RedisPubSub(redis, duplicateForSubscribe(redis)) : new LocalPubSub();
    // With Redis, product pages are also held in process (evicted everywhere on change: see
    // NearCacheStore); every role publishes its evictions, so every role uses it.
    const near =
      redis && config.cache.near.maxEntries > 0
        ? new NearCacheStore(new RedisCacheStore(redis), pubsub, {
            maxEntries: config.cache.near.maxEntries,
            ttlMs: config.cache.near.ttlSeconds * 1000,
            holds: (key) => key.startsWith('product:'),
          })
        : undefined;
    const cacheStore: CacheStore = near ?? (redis ? new RedisCacheStore(redis) : new MemoryCacheStore());
    // Pub/sub subscriptions start as soon as Redis is reachable; startup waits for all of them
    // together, and only briefly (below), so a Redis outage delays it once, not per subscriber.
    const subscribing: Promise<void>[] = [];
    const subscribe = (started: Promise<void>, what: string) =>
      subscribing.push(started.catch((err: unknown) => logger.warn({ err }, `${what} not subscribed`)));
    if (near) subscribe(near.start(), 'near cache');
    const cacheCounter = metrics.counter(
      'shopflow_cache_requests_total',
      'Cache lookups by cache and result (hit, miss, error, bypass)',
      ['cache', 'result'],
    );
    const cacheAside = new CacheAside(cacheStore, 'catalog', {
      ttlSeconds: config.cache.ttlSeconds,
      negativeTtlSeconds: config.cache.negativeTtlSeconds,
      logger,
      counter: cacheCounter,
    });
    const sessions: SessionStore =
      config.sessionStore === 'redis' && redis
        ? new RedisSessionStore(redis)
        : config.sessionStore === 'postgres'
          ? new PostgresSessionStore({ db })
          : new MemorySessionStore();
    const realtime = new RealtimeService({ pubsub, logger });
    if (config.role !== 'worker') subscribe(realtime.start(), 'real-time updates');
    const rateLimiters = {
      store: new FlexibleRateLimiter(config.rateLimit.perMinute, {
        prefix: 'rl:store',
        ...(redis ? { redis } : {}),
      }),
      admin: new FlexibleRateLimiter(config.rateLimit.adminPerMinute, {
        prefix: 'rl:admin',
        ...(redis ? { redis } : {}),
      }),
    };

    const inventory = new InventoryService({ db });
    const orders = new OrdersService({ db, inventory });
    const imageUrls = imageUrlBuilder(config.storage.cdnBaseUrl ?? config.storage.publicBaseUrl);
    const catalog = new CatalogService({
      db,
      cache: new CatalogCache(cacheAside, config.cache.listingTtlSeconds),
      imageUrls,
    });
    // After every committed stock movement: drop the product's cache entry, tell every instance.
    inventory.onStockChanged((levels) => {
      void catalog.pagesChanged(levels.map((l) => l.productId));
      realtime.publishStock(levels);
    });
    const bus: EventBus = config.amqpUrl
      ? new RabbitMqEventBus(config.amqpUrl, logger)
      : new LocalEventBus(logger);
    const engine: SearchEngine = await createSearchEngine(config, { pool: primary, read: db.read });
    const searchResults = new BroadcastCache<object>(pubsub, {
      name: 'search',
      maxEntries: config.cache.search.maxEntries,
      ttlMs: config.cache.search.ttlSeconds * 1000,
      counter: cacheCounter,
    });
    subscribe(searchResults.start(), 'search cache');
    await Promise.race([Promise.all(subscribing), new Promise((r) => setTimeout(r, 2000).unref())]);
    const search = new SearchService({ pool: primary, engine, catalog, logger, results: searchResults });
    const relay = new OutboxRelay({
      pool: primary,
      bus,
      logger,
      published: metrics.counter('shopflow_events_published_total', 'Events relayed from the outbox', [
        'type',
      ]),
    });
    const objects = await createObjectStore(config);
    const services = {
      adminKeys: new AdminKeysService({ db }),
      catalog,
      search,
      uploads: new UploadsService({ store: objects, maxBytes: config.storage.uploadMaxBytes }),
      invoices: new InvoicesService({ db, store: objects, orders }),
      media: new MediaService({
        db,
        store: objects,
        urls: imageUrls,
        onChanged: (id) => catalog.pagesChanged([id]),
      }),
      realtime,
      seed: new SeedService({ pool: primary }),
      inventory,
      orders,
      carts: new CartsService({ db, orders }),
      customers: new CustomersService({ db, sessions }),
      idempotency: new IdempotencyService({ db }),
      sessions,
      reviews: new ReviewsService({ db, onReviewed: (id) => catalog.pagesChanged([id]) }),
      payments: new PaymentsService({ db, orders, provider: new TestPaymentProvider() }),
      stats: new StatsService({ db }),
    };
    const healthChecks: HealthCheck[] = [
      { name: 'database', required: true, check: () => primary.query('SELECT 1') },
    ];
    if (replica)
      healthChecks.push({ name: 'databaseReplica', required: false, check: () => replica.query('SELECT 1') });
    if (redis) healthChecks.push({ name: 'redis', required: false, check: () => cacheStore.ping() });
    healthChecks.push({ name: 'bus', required: false, check: () => bus.ping() });
    healthChecks.push({ name: 'search', required: false, check: () => engine.ping() });
    healthChecks.push({ name: 'storage', required: false, check: () => objects.ping() });

    let devAdminKey: string | undefined;
    if (isEmbedded) {
      devAdminKey = await ensureDevAdminKey(config, services.adminKeys);
      if ((options.seedDemo ?? true) && config.seed.demoProducts > 0) {
        const { rows } = await primary.query<{ any: boolean }>(
          'SELECT EXISTS (SELECT 1 FROM products) AS any',
        );
        if (!rows[0]?.any) {
          logger.info({ products: config.seed.demoProducts }, 'loading the demo catalog');
          await services.seed.seed({
            products: config.seed.demoProducts,
            seed: 1,
            onBatch: (ids) => search.sync(ids),
          });
        }
      }
    }

    let closed = false;
    return {
      config,
      db,
      databaseUrl: resolved.url,
      ...(resolved.embedded ? { embedded: resolved.embedded } : {}),
      metrics,
      services,
      ...(redis ? { redis } : {}),
      rateLimiters,
      bus,
      relay,
      objects,
      async startBackground() {
        await bus.consume(search.consumer());
        await bus.consume(services.invoices.consumer());
        relay.start();
      },
      healthChecks,
      ...(devAdminKey ? { devAdminKey } : {}),
      buildServer: () =>
        buildServer({
          logger,
          bodyLimit: config.http.bodyLimit,
          metrics,
          healthChecks,
          db,
          secureCookie: config.http.secureCookie,
          rateLimit: config.rateLimit.enabled ? rateLimiters : undefined,
          services,
          objects,
          imageMaxBytes: config.storage.imageMaxBytes,
          version: VERSION,
        }),
      async close() {
        if (closed) return;
        closed = true;
        cacheAside.close();
        await relay.stop();
        await bus.close();
        await engine.close();
        await realtime.stop();
        await searchResults.close();
        await pubsub.close();
        await cacheStore.close();
        await db.close();
        await resolved.embedded?.stop();
      },
    };
  } catch (error) {
    await resolved.embedded?.stop();
    throw error;
  }
}

async function createObjectStore(config: AppConfig): Promise<ObjectStore> {
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

async function createSearchEngine(
  config: AppConfig,
  pools: { pool: pg.Pool; read: pg.Pool },
): Promise<SearchEngine> {
  if (config.search.engine === 'opensearch') {
    const { OpenSearchEngine } = await import('./platform/search/opensearch.search-engine.ts');
    return new OpenSearchEngine({ node: config.search.url!, index: config.search.index });
  }
  return new PostgresSearchEngine(pools);
}

/**
 * In embedded mode a first start creates an admin key and keeps it (readable by this user only) in
 * the data directory, so a newcomer can call the admin API at once. Returns the key when created.
 */
async function ensureDevAdminKey(
  config: AppConfig,
  adminKeys: AdminKeysService,
): Promise<string | undefined> {
  const file = path.join(config.dataDir, 'dev-admin-key');
  if (await adminKeys.hasAny()) return undefined;
  const { key } = await adminKeys.create('embedded dev key');
  await mkdir(config.dataDir, { recursive: true });
  await writeFile(file, key + '\n', { mode: 0o600 });
  return key;
}

/** The dev key file, if a previous embedded start wrote one. */
export async function readDevAdminKey(config: AppConfig): Promise<string | undefined> {
  try {
    return (await readFile(path.join(config.dataDir, 'dev-admin-key'), 'utf8')).trim();
  } catch {
    return undefined;
  }
}
