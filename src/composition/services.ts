/**
 * The composition root's second half: every service, built by hand from the adapters, each with
 * a narrow deps object. The cross-module calls are the arguments below; nothing else links modules.
 */
import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import type { Resources } from '../platform/lifecycle.ts';
import { registerBackupMetrics } from '../platform/metrics.ts';
import type { SessionStore } from '../platform/sessions/session-store.ts';
import { AdminKeysService } from '../modules/admin-keys/admin-keys.service.ts';
import { AuditService } from '../modules/audit/audit.service.ts';
import { PrivacyService } from '../modules/privacy/privacy.service.ts';
import { ArchiveService } from '../modules/archive/archive.service.ts';
import { BackupService } from '../modules/backup/backup.service.ts';
import { CatalogService } from '../modules/catalog/catalog.service.ts';
import { CatalogCache } from '../modules/catalog/catalog-cache.ts';
import { InventoryService } from '../modules/inventory/inventory.service.ts';
import { heldByOpenOrders, OrdersService } from '../modules/orders/orders.service.ts';
import { CartsService } from '../modules/carts/carts.service.ts';
import { CheckoutService } from '../modules/checkout/checkout.service.ts';
import { CustomersService } from '../modules/customers/customers.service.ts';
import { PasswordHasher } from '../modules/customers/password.ts';
import { IdempotencyService } from '../modules/idempotency/idempotency.service.ts';
import { ReviewsService } from '../modules/reviews/reviews.service.ts';
import { PaymentsService } from '../modules/payments/payments.service.ts';
import { createPaymentProvider } from '../modules/payments/stripe-provider.ts';
import { StatsService } from '../modules/stats/stats.service.ts';
import { RealtimeService } from '../modules/realtime/realtime.service.ts';
import { SearchService } from '../modules/search/search.service.ts';
import { UploadsService } from '../modules/uploads/uploads.service.ts';
import { imageUrlBuilder, MediaService } from '../modules/media/media.service.ts';
import { InvoicesService } from '../modules/invoices/invoices.service.ts';
import { SeedService } from '../modules/seed/seed.service.ts';
import { WebhooksService } from '../modules/webhooks/webhooks.service.ts';
import { WebhookDispatcher } from '../modules/webhooks/webhooks.dispatcher.ts';
import { WebhookHttpClient, type Resolver } from '../modules/webhooks/webhooks.http.ts';
import type { Infrastructure } from './infrastructure.ts';

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
  webhooks: WebhooksService;
  webhookDispatcher: WebhookDispatcher;
}

export function buildServices(
  config: AppConfig,
  infra: Infrastructure,
  logger: Logger,
  resources: Resources,
  /** Tests point webhook host names at chosen addresses. */
  options: { webhookResolver?: Resolver } = {},
): Services {
  const { db, primary, objects, sessions } = infra;
  const realtime = resources.add('real-time', new RealtimeService({ pubsub: infra.pubsub, logger }), (r) =>
    r.stop(),
  );
  if (config.role !== 'worker')
    infra.subscribing.push(
      realtime.start().catch((err: unknown) => logger.warn({ err }, 'real-time updates not subscribed')),
    );
  const imageUrls = imageUrlBuilder(config.storage.cdnBaseUrl ?? config.storage.publicBaseUrl);
  // Inventory reconciles reserved stock against what open orders hold (the orders module knows).
  const inventory = new InventoryService({ db, heldByOpenOrders });
  const catalog = new CatalogService({
    db,
    inventory,
    ratingsVerifiedOnly: config.ratingsVerifiedOnly,
    cache: new CatalogCache(infra.cacheAside, config.cache.listingTtlSeconds),
    imageUrls,
  });
  const pending = config.pendingOrders;
  const orders = new OrdersService({
    db,
    inventory,
    catalog,
    holds: {
      ttlMinutes: pending.ttlMinutes,
      perAddress: { orders: pending.perAddress, units: pending.unitsPerAddress },
      perOwner: { orders: pending.perSession, units: pending.unitsPerSession },
      maxUnitsPerLine: pending.maxUnitsPerLine,
    },
  });
  // After every committed stock movement: drop the product's cache entry, tell every instance.
  inventory.onStockChanged((levels) => {
    void catalog.pagesChanged(levels.map((l) => l.productId));
    realtime.publishStock(levels);
  });
  const stats = new StatsService({ db });
  const uploads = new UploadsService({
    db,
    store: objects,
    maxBytes: config.storage.uploadMaxBytes,
    perOwnerCount: config.storage.uploadsPerOwner,
    perOwnerBytes: config.storage.uploadBytesPerOwner,
    unreferencedHours: config.storage.uploadUnreferencedHours,
  });
  const carts = new CartsService({
    db,
    guestCartDays: config.retention.guestCartDays,
    customerCartDays: config.retention.customerCartDays,
    perOwner: config.cartsPerOwner,
  });
  const idempotency = new IdempotencyService({ db });
  const customers = new CustomersService({
    db,
    sessions,
    passwords: new PasswordHasher(config.passwordHashCost),
  });
  const invoices = new InvoicesService({ store: objects, orders, customers, catalog });
  const audit = new AuditService({ db });
  const backup = new BackupService({
    db,
    databaseUrl: infra.resolved.url,
    objects,
    retentionDays: config.retention.backupDays,
    retentionCount: config.retention.backupCount,
    searchPath: config.toolPath,
    ...(config.pgBinDir ? { pgBinDir: config.pgBinDir } : {}),
    ...(config.backupVerifyHost ? { verifyHost: config.backupVerifyHost } : {}),
    ...(config.backupVerifyLogin ? { verifyLogin: config.backupVerifyLogin } : {}),
    production: config.production,
  });
  registerBackupMetrics(infra.metrics, () => backup.freshness());
  const payments = new PaymentsService({
    db,
    orders,
    provider: createPaymentProvider(config.payments),
    config: { ...config.payments, pendingTtlMinutes: pending.ttlMinutes },
  });
  const hooks = config.webhooks;
  const webhooks = new WebhooksService({
    db,
    orderOf: (id) => orders.getAdmin(id),
    secretsKey: hooks.secretsKey === null ? null : Buffer.from(hooks.secretsKey, 'base64'),
    allowInsecureUrls: hooks.allowInsecureUrls,
    retentionDays: hooks.deliveryRetentionDays,
    logger,
  });
  webhooks.registerMetrics(infra.metrics);
  const webhookHttp = resources.add(
    'webhook http client',
    new WebhookHttpClient({
      timeoutMs: hooks.timeoutMs,
      responseMaxBytes: hooks.responseMaxBytes,
      allowPrivate: hooks.allowInsecureUrls,
      connectionsPerOrigin: hooks.concurrencyPerEndpoint,
      ...(options.webhookResolver ? { resolve: options.webhookResolver } : {}),
    }),
    (c) => c.close(),
  );
  const webhookDispatcher = new WebhookDispatcher(
    {
      db,
      service: webhooks,
      http: webhookHttp,
      logger,
      outcomes: infra.metrics.counter(
        'shopflow_webhook_attempts_total',
        'Webhook delivery attempts by outcome',
        ['result'],
      ),
    },
    {
      concurrency: hooks.concurrency,
      perEndpoint: hooks.concurrencyPerEndpoint,
      timeoutMs: hooks.timeoutMs,
      retryBaseMs: hooks.retryBaseMs,
      retryHours: hooks.retryHours,
      disableAfterDays: hooks.disableAfterDays,
      settleMs: config.amqpUrl ? 500 : 0,
    },
  );
  return {
    adminKeys: new AdminKeysService({ db }),
    catalog,
    inventory,
    orders,
    carts,
    checkout: new CheckoutService({
      db,
      guests: infra.guests,
      idempotency,
      orders,
      carts,
      uploads,
    }),
    customers,
    idempotency,
    sessions,
    reviews: new ReviewsService({
      db,
      hasReceived: (customerId, productId) => orders.hasReceived(customerId, productId),
      isLive: async (productId) => (await catalog.livePrices(db.primary, [productId])).size > 0,
      onReviewed: (id) => catalog.pagesChanged([id]),
    }),
    payments,
    stats,
    realtime,
    search: new SearchService({
      pool: primary,
      engine: infra.engine,
      catalog,
      stats,
      logger,
      results: infra.searchResults,
    }),
    uploads,
    media: new MediaService({
      db,
      catalog,
      store: objects,
      urls: imageUrls,
      onChanged: (id) => catalog.pagesChanged([id]),
      renderConcurrency: config.storage.imageRenderConcurrency,
    }),
    invoices,
    audit,
    privacy: new PrivacyService({
      db,
      sessions,
      objects,
      invoices,
      audit,
      redactWebhooks: (tx, who) => webhooks.redactCustomer(tx, who),
    }),
    archive: new ArchiveService({
      db,
      objects,
      afterDays: config.retention.archiveOrdersAfterDays,
      orders,
      payments,
    }),
    backup,
    seed: new SeedService({ pool: primary }),
    webhooks,
    webhookDispatcher,
  };
}
