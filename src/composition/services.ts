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
import { PromotionsService } from '../modules/promotions/promotions.service.ts';
import { ArchiveService } from '../modules/archive/archive.service.ts';
import { BackupService } from '../modules/backup/backup.service.ts';
import { CatalogService } from '../modules/catalog/catalog.service.ts';
import { CatalogCache } from '../modules/catalog/catalog-cache.ts';
import { CatalogImportService } from '../modules/catalog/catalog-import.service.ts';
import { InventoryService } from '../modules/inventory/inventory.service.ts';
import { heldByOpenOrders, OrdersService } from '../modules/orders/orders.service.ts';
import { CartsService } from '../modules/carts/carts.service.ts';
import { CheckoutService } from '../modules/checkout/checkout.service.ts';
import { DeliveryService } from '../modules/checkout/delivery.service.ts';
import { CustomersService } from '../modules/customers/customers.service.ts';
import { PasswordHasher } from '../modules/customers/password.ts';
import { AddressesService } from '../modules/customers/addresses.service.ts';
import { IdempotencyService } from '../modules/idempotency/idempotency.service.ts';
import { ReviewsService } from '../modules/reviews/reviews.service.ts';
import { PaymentsService } from '../modules/payments/payments.service.ts';
import { createPaymentProvider } from '../modules/payments/providers.ts';
import { StatsService } from '../modules/stats/stats.service.ts';
import { RealtimeService } from '../modules/realtime/realtime.service.ts';
import { SearchService } from '../modules/search/search.service.ts';
import { UploadsService } from '../modules/uploads/uploads.service.ts';
import { imageUrlBuilder, MediaService } from '../modules/media/media.service.ts';
import { InvoicesService } from '../modules/invoices/invoices.service.ts';
import { SeedService } from '../modules/seed/seed.service.ts';
import { ShippingService } from '../modules/shipping/shipping.service.ts';
import { TableShippingEngine } from '../modules/shipping/table.shipping-engine.ts';
import { ActiveZones } from '../modules/shipping/active-zones.ts';
import type { ZoneRow } from '../modules/shipping/shipping.sql.ts';
import { MelhorEnvioShippingEngine } from '../modules/shipping/melhorenvio.shipping-engine.ts';
import type { ShippingEngine } from '../modules/shipping/shipping-engine.ts';
import { CachedCepLookup, type CepLookup } from '../modules/shipping/cep-lookup.ts';
import { ViaCepLookup } from '../modules/shipping/viacep.cep-lookup.ts';
import { TwoLevelCache } from '../platform/cache/two-level.cache.ts';
import { BroadcastCache } from '../platform/cache/broadcast-cache.ts';
import { WebhooksService } from '../modules/webhooks/webhooks.service.ts';
import { WebhookDispatcher } from '../modules/webhooks/webhooks.dispatcher.ts';
import { WebhookHttpClient } from '../modules/webhooks/webhooks.http.ts';
import type { Resolver } from '../platform/net/public-address.ts';
import { PublicFetcher } from '../platform/net/public-fetch.ts';
import type { Infrastructure } from './infrastructure.ts';

/** Every service, by name: what the CLI commands and the tests call. */
export interface Services {
  adminKeys: AdminKeysService;
  catalog: CatalogService;
  catalogFiles: CatalogImportService;
  inventory: InventoryService;
  orders: OrdersService;
  carts: CartsService;
  checkout: CheckoutService;
  delivery: DeliveryService;
  customers: CustomersService;
  addresses: AddressesService;
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
  promotions: PromotionsService;
  archive: ArchiveService;
  backup: BackupService;
  audit: AuditService;
  seed: SeedService;
  shipping: ShippingService;
  cepLookup: CepLookup;
  webhooks: WebhooksService;
  webhookDispatcher: WebhookDispatcher;
}

/** What every builder below takes. */
interface Ctx {
  config: AppConfig;
  infra: Infrastructure;
  logger: Logger;
  resources: Resources;
}

export function buildServices(
  config: AppConfig,
  infra: Infrastructure,
  logger: Logger,
  resources: Resources,
  /** Tests point webhook host names at chosen addresses. */
  options: { webhookResolver?: Resolver } = {},
): Services {
  const ctx: Ctx = { config, infra, logger, resources };
  const core = buildCore(ctx);
  const money = buildMoney(ctx, core);
  const commerce = buildCommerce(ctx, core, money);
  const hooks = buildWebhooks(ctx, core, options.webhookResolver);
  const { db, primary, objects, sessions } = infra;
  const { catalog, inventory, orders, stats, uploads, customers, idempotency } = core;
  const { invoices, audit, payments, archive, reviews } = money;
  const fetcher = resources.add(
    'catalog import image fetcher',
    new PublicFetcher({
      timeoutMs: 15_000,
      maxRedirects: 3,
      allowPrivate: config.storage.importAllowPrivateUrls,
      userAgent: 'ShopFlow-CatalogImport/1',
    }),
    (f) => f.close(),
  );
  const media = new MediaService({
    db,
    catalog,
    store: objects,
    urls: core.imageUrls,
    onChanged: (id) => catalog.pagesChanged([id]),
    renderConcurrency: config.storage.imageRenderConcurrency,
    fetcher,
    imageMaxBytes: config.storage.imageMaxBytes,
  });
  return {
    ...core,
    ...money,
    ...commerce,
    ...hooks,
    adminKeys: new AdminKeysService({ db }),
    catalogFiles: new CatalogImportService({ db, inventory, cache: core.catalogCache, images: media }),
    sessions,
    search: new SearchService({
      pool: primary,
      engine: infra.engine,
      catalog,
      stats,
      logger,
      results: infra.searchResults,
    }),
    media,
    privacy: new PrivacyService({
      db,
      sessions,
      objects,
      invoices,
      audit,
      owners: {
        customers,
        addresses: commerce.addresses,
        orders,
        payments,
        archive,
        reviews,
        carts: commerce.carts,
        idempotency,
        uploads,
      },
      redactWebhooks: (tx, who) => hooks.webhooks.redactCustomer(tx, who),
    }),
    backup: buildBackup(ctx),
    seed: new SeedService({ pool: primary }),
    cepLookup: new CachedCepLookup(
      new ViaCepLookup(config.cepLookup),
      new TwoLevelCache(infra.cacheStore, {
        namespace: 'cep',
        maxEntries: 10_000,
        ttlSeconds: config.cepLookup.cacheSeconds,
      }),
    ),
  };
}

/** The catalog, stock and orders (with what they tell each other), and who buys. */
function buildCore({ config, infra, logger, resources }: Ctx) {
  const { db, objects, sessions } = infra;
  const realtime = resources.add('real-time', new RealtimeService({ pubsub: infra.pubsub, logger }), (r) =>
    r.stop(),
  );
  if (config.role !== 'worker')
    infra.subscribing.push(
      realtime.start().catch((err: unknown) => logger.warn({ err }, 'real-time updates not subscribed')),
    );
  const imageUrls = imageUrlBuilder(config.storage.cdnBaseUrl ?? config.storage.publicBaseUrl);
  // Inventory reconciles reserved stock against what open orders hold (the orders module knows).
  const inventory = new InventoryService({
    db,
    heldByOpenOrders,
    lowStockThreshold: config.lowStockThreshold,
  });
  const catalogCache = new CatalogCache(infra.cacheAside, config.cache.listingTtlSeconds);
  const catalog = new CatalogService({
    db,
    inventory,
    ratingsVerifiedOnly: config.ratingsVerifiedOnly,
    cache: catalogCache,
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
  return {
    realtime,
    imageUrls,
    inventory,
    catalogCache,
    catalog,
    orders,
    stats: new StatsService({ db }),
    uploads: new UploadsService({
      db,
      store: objects,
      maxBytes: config.storage.uploadMaxBytes,
      perOwnerCount: config.storage.uploadsPerOwner,
      perOwnerBytes: config.storage.uploadBytesPerOwner,
      unreferencedHours: config.storage.uploadUnreferencedHours,
    }),
    idempotency: new IdempotencyService({ db }),
    customers: new CustomersService({
      db,
      sessions,
      passwords: new PasswordHasher(config.passwordHashCost),
    }),
  };
}
type Core = ReturnType<typeof buildCore>;

/** Payments, and what keeps the record of money: invoices, archive, audit; reviews of what was bought. */
function buildMoney({ config, infra }: Ctx, { orders, customers, catalog }: Core) {
  const { db, objects } = infra;
  const payments = new PaymentsService({
    db,
    orders,
    provider: createPaymentProvider(config.payments),
    config: { ...config.payments, pendingTtlMinutes: config.pendingOrders.ttlMinutes },
  });
  // The order (its detail and its invoice) shows how it is paid, as the payments module tells it.
  orders.describePaymentsWith((orderId) => payments.paymentOf(orderId));
  return {
    payments,
    invoices: new InvoicesService({ store: objects, orders, customers, catalog }),
    audit: new AuditService({ db }),
    archive: new ArchiveService({
      db,
      objects,
      afterDays: config.retention.archiveOrdersAfterDays,
      orders,
      payments,
    }),
    reviews: new ReviewsService({
      db,
      hasReceived: (customerId, productId) => orders.hasReceived(customerId, productId),
      isLive: async (productId) => (await catalog.livePrices(db.primary, [productId])).size > 0,
      onReviewed: (id) => catalog.pagesChanged([id]),
    }),
  };
}
type Money = ReturnType<typeof buildMoney>;

/** The way to an order: carts, promotions, delivery and freight, and the checkout over them. */
function buildCommerce(ctx: Ctx, core: Core, { archive }: Money) {
  const { config, infra } = ctx;
  const { db } = infra;
  const { catalog, orders, customers } = core;
  const promotions = new PromotionsService({
    db,
    categoryPaths: (ids, db) => catalog.productCategoryPaths(ids, db),
    // A first order: none placed before, kept or archived.
    hasOrdered: async (customerId) =>
      (await orders.hasOrdered(customerId)) || (await archive.ofCustomer(customerId, 1)).length > 0,
  });
  // An order cancelled or expired unpaid gives its promotions back (recorded in its history).
  orders.whenCancelledUnpaid(async (tx, orderId) => {
    const released = await promotions.release(tx, orderId);
    if (released > 0)
      await orders.recordHistory(tx, orderId, [
        { type: 'promotion.released', actor: { type: 'system' }, data: { redemptions: released } },
      ]);
  });
  const carts = new CartsService({
    db,
    guestCartDays: config.retention.guestCartDays,
    customerCartDays: config.retention.customerCartDays,
    perOwner: config.cartsPerOwner,
    // Carts are priced with their promotions.
    pricer: {
      check: (code, buyer) => promotions.checkCode(code, buyer),
      price: (input) => promotions.quote(input),
    },
  });
  const addresses = new AddressesService({ db });
  const shipping = buildShipping(config, infra, ctx.resources, ctx.logger);
  const delivery = new DeliveryService({ db, carts, shipping, addresses, customers });
  const checkout = new CheckoutService({
    db,
    guests: infra.guests,
    idempotency: core.idempotency,
    orders,
    carts,
    uploads: core.uploads,
    delivery,
    promotions,
  });
  return { promotions, carts, addresses, shipping, delivery, checkout };
}

/** Outgoing webhooks: the endpoints and their deliveries, and the dispatcher that sends them. */
function buildWebhooks({ config, infra, logger, resources }: Ctx, core: Core, resolver?: Resolver) {
  const { orders, catalog, inventory, customers } = core;
  const hooks = config.webhooks;
  const webhooks = new WebhooksService({
    db: infra.db,
    read: {
      order: (id) => orders.getAdmin(id),
      fulfillment: async (orderId, id) =>
        (await orders.getAdminDetail(orderId)).fulfillments?.find((f) => f.id === id),
      product: (id) => catalog.getProduct(id, { fresh: true }),
      variantStock: (id) => inventory.variantStock(id),
      customer: (id) => customers.getAdmin(id),
    },
    secretsKey: hooks.secretsKey === null ? null : Buffer.from(hooks.secretsKey, 'base64'),
    allowInsecureUrls: hooks.allowInsecureUrls,
    retentionDays: hooks.deliveryRetentionDays,
    logger,
  });
  webhooks.registerMetrics(infra.metrics);
  const http = resources.add(
    'webhook http client',
    new WebhookHttpClient({
      timeoutMs: hooks.timeoutMs,
      responseMaxBytes: hooks.responseMaxBytes,
      allowPrivate: hooks.allowInsecureUrls,
      connectionsPerOrigin: hooks.concurrencyPerEndpoint,
      ...(resolver ? { resolve: resolver } : {}),
    }),
    (c) => c.close(),
  );
  const webhookDispatcher = new WebhookDispatcher(
    {
      db: infra.db,
      service: webhooks,
      http,
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
    },
  );
  return { webhooks, webhookDispatcher };
}

/** Backups of the database and the objects, with their freshness as a metric. */
function buildBackup({ config, infra }: Ctx): BackupService {
  const backup = new BackupService({
    db: infra.db,
    databaseUrl: infra.resolved.url,
    objects: infra.objects,
    retentionDays: config.retention.backupDays,
    retentionCount: config.retention.backupCount,
    searchPath: config.toolPath,
    ...(config.pgBinDir ? { pgBinDir: config.pgBinDir } : {}),
    ...(config.backupVerifyHost ? { verifyHost: config.backupVerifyHost } : {}),
    ...(config.backupVerifyLogin ? { verifyLogin: config.backupVerifyLogin } : {}),
    production: config.production,
  });
  registerBackupMetrics(infra.metrics, () => backup.freshness());
  return backup;
}

/** The freight engines SHIPPING_PROVIDER names, in its order. */
function buildShipping(
  config: AppConfig,
  infra: Infrastructure,
  resources: Resources,
  logger: Logger,
): ShippingService {
  const { shipping } = config;
  // The table engine's zones, read on every quote: in process, emptied everywhere on a change.
  const zoneCache = resources.add(
    'shipping zones cache',
    new BroadcastCache<ZoneRow[]>(infra.pubsub, {
      name: 'shipping-zones',
      maxEntries: 1,
      ttlMs: 60_000,
      counter: infra.cacheCounter,
    }),
    (c) => c.close(),
  );
  infra.subscribing.push(
    zoneCache.start().catch((err: unknown) => logger.warn({ err }, 'shipping zones cache not subscribed')),
  );
  const zones = new ActiveZones({ db: infra.db, cache: zoneCache });
  const engines: ShippingEngine[] = shipping.engines.map((name) => {
    if (name === 'table') return new TableShippingEngine({ zones });
    const me = shipping.melhorEnvio!;
    return new MelhorEnvioShippingEngine({
      ...me,
      originCep: shipping.originCep!,
      cache: new TwoLevelCache(infra.cacheStore, {
        namespace: 'freight-quote',
        maxEntries: 10_000,
        ttlSeconds: me.cacheSeconds,
      }),
    });
  });
  return new ShippingService({
    db: infra.db,
    engines,
    zones,
    quoteTtlMinutes: shipping.quoteTtlMinutes,
    unitPackage: shipping.defaults,
  });
}
