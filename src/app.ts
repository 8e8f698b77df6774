/**
 * The composition root: builds every adapter and service from the typed config, by hand, then the
 * list of modules (each declares its routes, consumers, jobs and health checks), and hands back one
 * object that owns them all and closes them in the reverse order of opening. The server, the worker
 * and every CLI command get what they use from here.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from './config.ts';
import { VERSION } from './version.ts';
import { buildHealthServer, buildServer } from './assembly/server.ts';
import { CONSOLE_DIR } from './assembly/console.ts';
import { createWorker, type Worker } from './assembly/worker.ts';
import { JobRunner } from './platform/jobs/runner.ts';
import { jobsModule } from './modules/jobs/index.ts';
import { retentionModule } from './modules/retention/index.ts';
import { auditModule } from './modules/audit/index.ts';
import { AuditService } from './modules/audit/audit.service.ts';
import { PrivacyService } from './modules/privacy/privacy.service.ts';
import { privacyModule } from './modules/privacy/index.ts';
import { ArchiveService } from './modules/archive/archive.service.ts';
import { archiveModule } from './modules/archive/index.ts';
import { BackupService } from './modules/backup/backup.service.ts';
import { backupModule } from './modules/backup/index.ts';
import { createSessionHelpers } from './http/session.ts';
import { createDatabase, createPool, type Database } from './platform/db/pool.ts';
import { resolveDatabase } from './platform/db/resolve.ts';
import type { EmbeddedPostgresHandle } from './platform/db/embedded.ts';
import { migrate } from './platform/db/migrations.ts';
import { Resources } from './platform/lifecycle.ts';
import {
  createMetrics,
  registerBackupMetrics,
  registerJobFailureMetrics,
  registerOutboxMetrics,
  registerPoolMetrics,
  type Metrics,
} from './platform/metrics.ts';
import type { HealthCheck } from './platform/health.ts';
import {
  closeRedis,
  createRedis,
  duplicateForSubscribe,
  waitReady,
  type RedisClient,
} from './platform/redis/client.ts';
import { RedisCacheStore } from './platform/cache/redis.cache-store.ts';
import { MemoryCacheStore } from './platform/cache/memory.cache-store.ts';
import { CacheAside } from './platform/cache/cache-aside.ts';
import { NearCacheStore } from './platform/cache/near.cache-store.ts';
import { BroadcastCache } from './platform/cache/broadcast-cache.ts';
import type { CacheStore } from './platform/cache/cache-store.ts';
import { LocalPubSub, RedisPubSub, type PubSub } from './platform/pubsub/pubsub.ts';
import { FlexibleRateLimiter, type RateLimiter } from './platform/ratelimit/rate-limiter.ts';
import { LoginThrottle } from './platform/ratelimit/login-throttle.ts';
import type { EventBus } from './platform/events/bus.ts';
import { LocalEventBus } from './platform/events/local.bus.ts';
import { RabbitMqEventBus } from './platform/events/rabbitmq.bus.ts';
import { OutboxRelay } from './platform/events/relay.ts';
import type { SearchEngine } from './platform/search/search-engine.ts';
import { PostgresSearchEngine } from './platform/search/postgres.search-engine.ts';
import type { ObjectStore } from './platform/storage/object-store.ts';
import { LocalObjectStore } from './platform/storage/local.object-store.ts';
import { S3ObjectStore } from './platform/storage/s3.object-store.ts';
import { PostgresSessionStore } from './platform/sessions/postgres.session-store.ts';
import { RedisSessionStore } from './platform/sessions/redis.session-store.ts';
import { MemorySessionStore } from './platform/sessions/memory.session-store.ts';
import type { SessionStore } from './platform/sessions/session-store.ts';
import type { ShopFlowModule } from './modules/module.ts';
import { AdminKeysService } from './modules/admin-keys/admin-keys.service.ts';
import { adminKeysModule } from './modules/admin-keys/index.ts';
import { CatalogService } from './modules/catalog/catalog.service.ts';
import { CatalogCache, isProductPageKey } from './modules/catalog/catalog-cache.ts';
import { catalogModule } from './modules/catalog/index.ts';
import { InventoryService } from './modules/inventory/inventory.service.ts';
import { inventoryModule } from './modules/inventory/index.ts';
import { heldByOpenOrders, OrdersService } from './modules/orders/orders.service.ts';
import { ordersModule } from './modules/orders/index.ts';
import { CartsService } from './modules/carts/carts.service.ts';
import { cartsModule } from './modules/carts/index.ts';
import { CheckoutService } from './modules/checkout/checkout.service.ts';
import { checkoutModule } from './modules/checkout/index.ts';
import { CustomersService } from './modules/customers/customers.service.ts';
import { PasswordHasher } from './modules/customers/password.ts';
import { customersModule } from './modules/customers/index.ts';
import { IdempotencyService } from './modules/idempotency/idempotency.service.ts';
import { ReviewsService } from './modules/reviews/reviews.service.ts';
import { reviewsModule } from './modules/reviews/index.ts';
import { PaymentsService } from './modules/payments/payments.service.ts';
import { createPaymentProvider } from './modules/payments/stripe-provider.ts';
import { paymentsModule } from './modules/payments/index.ts';
import { StatsService } from './modules/stats/stats.service.ts';
import { statsModule } from './modules/stats/index.ts';
import { RealtimeService } from './modules/realtime/realtime.service.ts';
import { realtimeModule } from './modules/realtime/index.ts';
import { SearchService } from './modules/search/search.service.ts';
import { searchModule } from './modules/search/index.ts';
import { UploadsService } from './modules/uploads/uploads.service.ts';
import { uploadsModule } from './modules/uploads/index.ts';
import { imageUrlBuilder, MediaService } from './modules/media/media.service.ts';
import { mediaModule } from './modules/media/index.ts';
import { InvoicesService } from './modules/invoices/invoices.service.ts';
import { invoicesModule } from './modules/invoices/index.ts';
import { SeedService } from './modules/seed/seed.service.ts';
import { housekeepingModule } from './modules/housekeeping/index.ts';
import { eventsModule } from './modules/events/index.ts';

export interface AppOptions {
  logger: Logger;
  /** Apply pending migrations first (`serve --migrate`, and always on the embedded database). */
  migrate?: boolean;
}

/** Every service, by name: what the CLI commands and the tests call. */
export interface Services {
  adminKeys: AdminKeysService;
  catalog: CatalogService;
  inventory: InventoryService;
  orders: OrdersService;
  carts: CartsService;
  checkout: CheckoutService;
  customers: CustomersService;
  idempotency: IdempotencyService;
  sessions: SessionStore;
  reviews: ReviewsService;
  payments: PaymentsService;
  stats: StatsService;
  realtime: RealtimeService;
  search: SearchService;
  uploads: UploadsService;
  media: MediaService;
  invoices: InvoicesService;
  privacy: PrivacyService;
  archive: ArchiveService;
  backup: BackupService;
  audit: AuditService;
  seed: SeedService;
}

export interface App {
  config: AppConfig;
  db: Database;
  /** Connection string of the primary (with the embedded password when embedded). */
  databaseUrl: string;
  embedded?: EmbeddedPostgresHandle;
  metrics: Metrics;
  services: Services;
  /** The modules, in mounting order: the server and the worker iterate over this list. */
  modules: ShopFlowModule[];
  /** The shared Redis client, when Redis is configured. */
  redis?: RedisClient;
  rateLimiters: { store: RateLimiter; admin: RateLimiter };
  bus: EventBus;
  relay: OutboxRelay;
  objects: ObjectStore;
  /** The platform's checks and every module's. */
  healthChecks: HealthCheck[];
  /** Every module's jobs: list, history, run now (the worker schedules them). */
  jobs: JobRunner;
  /** The background side (consumers, outbox relay, scheduled jobs), not started yet. */
  worker: Worker;
  /** Builds the HTTP server (not listening yet). */
  buildServer(): Promise<FastifyInstance>;
  /** Builds the worker's health-and-metrics server (not listening yet). */
  buildHealthServer(): Promise<FastifyInstance>;
  close(): Promise<void>;
}

export async function createApp(config: AppConfig, options: AppOptions): Promise<App> {
  const { logger } = options;
  const resources = new Resources((name, err) => logger.warn({ err, resource: name }, 'close failed'));
  try {
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
    const sessions: SessionStore =
      config.sessionStore === 'redis' && redis
        ? new RedisSessionStore(redis)
        : config.sessionStore === 'postgres'
          ? new PostgresSessionStore({ db })
          : new MemorySessionStore(Date.now, { maxSessions: config.sessions.memoryMax });
    const guestSessions =
      config.sessions.guestsPerAddressPerHour > 0
        ? new FlexibleRateLimiter(config.sessions.guestsPerAddressPerHour, {
            prefix: 'rl:guest-sessions',
            windowSeconds: 3600,
            ...(redis ? { redis } : {}),
          })
        : undefined;
    const realtime = resources.add('real-time', new RealtimeService({ pubsub, logger }), (r) => r.stop());
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
    const engine: SearchEngine = resources.add('search engine', await createSearchEngine(config, db), (e) =>
      e.close(),
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
    await Promise.race([Promise.all(subscribing), new Promise((r) => setTimeout(r, 2000).unref())]);
    const bus: EventBus = resources.add(
      'event bus',
      config.amqpUrl ? new RabbitMqEventBus(config.amqpUrl, logger) : new LocalEventBus(logger),
      (b) => b.close(),
    );
    const relay = resources.add(
      'outbox relay',
      new OutboxRelay({
        pool: primary,
        bus,
        logger,
        published: metrics.counter('shopflow_events_published_total', 'Events relayed from the outbox', [
          'type',
        ]),
        publishFailures: metrics.counter(
          'shopflow_events_publish_failures_total',
          'Publishes of outbox events the broker did not confirm (retried)',
        ),
      }),
      (r) => r.stop(),
    );
    const objects = await createObjectStore(config);

    // Services: each gets a narrow deps object; the cross-module calls are the arguments below.
    const imageUrls = imageUrlBuilder(config.storage.cdnBaseUrl ?? config.storage.publicBaseUrl);
    // Inventory reconciles reserved stock against what open orders hold (the orders module knows).
    const inventory = new InventoryService({ db, heldByOpenOrders });
    const catalog = new CatalogService({
      db,
      inventory,
      cache: new CatalogCache(cacheAside, config.cache.listingTtlSeconds),
      imageUrls,
    });
    const orders = new OrdersService({ db, inventory, catalog });
    // After every committed stock movement: drop the product's cache entry, tell every instance.
    inventory.onStockChanged((levels) => {
      void catalog.pagesChanged(levels.map((l) => l.productId));
      realtime.publishStock(levels);
    });
    const stats = new StatsService({ db });
    const search = new SearchService({
      pool: primary,
      engine,
      catalog,
      stats,
      logger,
      results: searchResults,
    });
    const uploads = new UploadsService({ store: objects, maxBytes: config.storage.uploadMaxBytes });
    const carts = new CartsService({ db, orders, guestCartDays: config.retention.guestCartDays });
    const idempotency = new IdempotencyService({ db });
    const invoices = new InvoicesService({ db, store: objects, orders });
    const audit = new AuditService({ db });
    const privacy = new PrivacyService({ db, sessions, objects, invoices, audit });
    const archive = new ArchiveService({ db, objects, afterDays: config.retention.archiveOrdersAfterDays });
    const backup = new BackupService({
      db,
      databaseUrl: resolved.url,
      objects,
      retentionDays: config.retention.backupDays,
      retentionCount: config.retention.backupCount,
      searchPath: config.toolPath,
      ...(config.pgBinDir ? { pgBinDir: config.pgBinDir } : {}),
      ...(config.backupVerifyHost ? { verifyHost: config.backupVerifyHost } : {}),
      ...(config.backupVerifyLogin ? { verifyLogin: config.backupVerifyLogin } : {}),
      production: config.production,
    });
    registerBackupMetrics(metrics, () => backup.freshness());
    const services: Services = {
      adminKeys: new AdminKeysService({ db }),
      catalog,
      inventory,
      orders,
      carts,
      checkout: new CheckoutService({
        db,
        sessions,
        idempotency,
        orders,
        carts,
        uploads,
        maxPendingPerOwner: config.pendingOrders.perSession,
        ...(guestSessions ? { guestSessions } : {}),
        ...(config.pendingOrders.perAddress > 0
          ? {
              ordersPerAddress: new FlexibleRateLimiter(config.pendingOrders.perAddress, {
                prefix: 'rl:orders',
                windowSeconds: config.pendingOrders.ttlMinutes * 60,
                ...(redis ? { redis } : {}),
              }),
            }
          : {}),
      }),
      customers: new CustomersService({
        db,
        sessions,
        passwords: new PasswordHasher(config.passwordHashCost),
      }),
      idempotency,
      sessions,
      reviews: new ReviewsService({
        db,
        hasReceived: (customerId, productId) => orders.hasReceived(customerId, productId),
        onReviewed: (id) => catalog.pagesChanged([id]),
      }),
      payments: new PaymentsService({
        db,
        orders,
        provider: createPaymentProvider(config.payments),
        config: config.payments,
      }),
      stats,
      realtime,
      search,
      uploads,
      media: new MediaService({
        db,
        store: objects,
        urls: imageUrls,
        onChanged: (id) => catalog.pagesChanged([id]),
        renderConcurrency: config.storage.imageRenderConcurrency,
      }),
      invoices,
      audit,
      privacy,
      archive,
      backup,
      seed: new SeedService({ pool: primary }),
    };

    // The modules. Adding one: build its services above, add it here.
    const http = createSessionHelpers(sessions, {
      secureCookie: config.http.secureCookie,
      ...(guestSessions ? { guestSessions } : {}),
    });
    const j = config.jobs;
    // One throttle for every check of a customer's password (login, erasure).
    const loginThrottle = new LoginThrottle(config.login, redis ? { redis } : {});
    const jobs = resources.add(
      'jobs',
      new JobRunner({
        pool: primary,
        logger,
        schedules: j.schedules,
        cronCheckSeconds: j.scheduleCheckSeconds,
      }),
      (r) => r.stop(),
    );
    const modules: ShopFlowModule[] = [
      catalogModule({ catalog }),
      customersModule({
        customers: services.customers,
        sessions: http,
        throttle: loginThrottle,
        registrations: new FlexibleRateLimiter(config.registrationsPerAddressPerHour, {
          prefix: 'rl:register',
          windowSeconds: 3600,
          ...(redis ? { redis } : {}),
        }),
      }),
      cartsModule({ carts, sessions: http, uploads }),
      checkoutModule({ checkout: services.checkout, sessions: http }),
      ordersModule({
        orders,
        sessions: http,
        pendingTtlMinutes: config.pendingOrders.ttlMinutes,
        timeZone: config.storeTimeZone,
      }),
      reviewsModule({ reviews: services.reviews, sessions: http }),
      searchModule({
        search,
        logger,
      }),
      uploadsModule({ uploads, sessions: http, objects, maxBytes: config.storage.uploadMaxBytes }),
      mediaModule({ media: services.media, imageMaxBytes: config.storage.imageMaxBytes }),
      invoicesModule({ invoices: services.invoices, sessions: http }),
      paymentsModule({
        payments: services.payments,
        sessions: http,
        failedPaymentDays: config.retention.failedPaymentDays,
      }),
      realtimeModule({
        realtime,
        maxConnectionsPerAddress: config.websocket.maxConnectionsPerAddress,
        maxMessagesPerSecond: config.websocket.maxMessagesPerSecond,
      }),
      adminKeysModule({ adminKeys: services.adminKeys }),
      inventoryModule({ inventory }),
      statsModule({ stats }),
      housekeepingModule({ pool: primary, jobRunDays: config.retention.jobRunDays }),
      eventsModule({
        bus,
        relay,
        retentionDays: j.outboxRetentionDays,
        metrics,
        logger,
        metricsEnvironment: config.metricsEnvironment,
      }),
      jobsModule({ jobs }),
      retentionModule({ jobs }),
      auditModule({ audit, retentionDays: config.retention.auditDays }),
      privacyModule({ privacy, customers: services.customers, sessions: http, throttle: loginThrottle }),
      archiveModule({ archive, sessions: http }),
      backupModule({ backup }),
    ];
    jobs.register(modules.flatMap((m) => m.jobs ?? []));

    const healthChecks: HealthCheck[] = [
      { name: 'database', required: true, check: () => primary.query('SELECT 1') },
    ];
    if (replica)
      healthChecks.push({ name: 'databaseReplica', required: false, check: () => replica.query('SELECT 1') });
    if (redis) healthChecks.push({ name: 'redis', required: false, check: () => cacheStore.ping() });
    healthChecks.push(...modules.flatMap((m) => m.health ?? []));

    const worker = resources.add('worker', createWorker({ modules, bus, relay, jobs, logger }), (w) =>
      w.stop(),
    );

    return {
      config,
      db,
      databaseUrl: resolved.url,
      ...(resolved.embedded ? { embedded: resolved.embedded } : {}),
      metrics,
      services,
      modules,
      ...(redis ? { redis } : {}),
      rateLimiters,
      bus,
      relay,
      objects,
      healthChecks,
      jobs,
      worker,
      buildServer: () =>
        buildServer({
          logger,
          bodyLimit: config.http.bodyLimit,
          trustProxy: config.http.trustProxy,
          metrics,
          healthChecks,
          readyInfo: { paymentProvider: config.payments.provider },
          ...(config.http.metricsToken ? { metricsToken: config.http.metricsToken } : {}),
          modules,
          sessions: http,
          authenticateAdmin: (key) => services.adminKeys.authenticate(key),
          audit: (entry) => audit.record(entry),
          rateLimit: config.rateLimit.enabled ? rateLimiters : undefined,
          version: VERSION,
          console: { dir: CONSOLE_DIR, ...consoleOrigins(config.storage) },
        }),
      buildHealthServer: () =>
        buildHealthServer({
          logger,
          metrics,
          healthChecks,
          readyInfo: { paymentProvider: config.payments.provider },
          ...(config.http.metricsToken ? { metricsToken: config.http.metricsToken } : {}),
          authenticateAdmin: (key) => services.adminKeys.authenticate(key),
        }),
      close: () => resources.close(),
    };
  } catch (error) {
    await resources.close();
    throw error;
  }
}

/**
 * Where the console may load images from and send requests to, besides its own origin: the app's
 * public URL (image and local-storage URLs are built on it), the CDN, and the S3 endpoint its
 * presigned uploads go to.
 */
function consoleOrigins(storage: AppConfig['storage']): { imageOrigins: string[]; connectOrigins: string[] } {
  const origin = (url: string) => new URL(url).origin;
  const app = origin(storage.publicBaseUrl);
  const s3 =
    storage.driver === 's3'
      ? [storage.s3.endpoint ? origin(storage.s3.endpoint) : 'https://*.amazonaws.com']
      : [];
  return {
    imageOrigins: [app, ...(storage.cdnBaseUrl ? [origin(storage.cdnBaseUrl)] : [])],
    connectOrigins: [app, app.replace(/^http/, 'ws'), ...s3],
  };
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
    const { OpenSearchEngine } = await import('./platform/search/opensearch.search-engine.ts');
    return new OpenSearchEngine({ node: config.search.url!, index: config.search.index });
  }
  return new PostgresSearchEngine({ pool: db.primary, read: db.read });
}
