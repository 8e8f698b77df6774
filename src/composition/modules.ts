/**
 * The module list: each module declares its routes, consumers, jobs and health checks from the
 * services it is given. The server and the worker iterate over this list. Adding a module: build
 * its services in services.ts, add it here.
 */
import type { Logger } from 'pino';
import type { AppConfig } from '../config.ts';
import type { JobRunner } from '../platform/jobs/runner.ts';
import { LoginThrottle } from '../platform/ratelimit/login-throttle.ts';
import type { SessionHelpers } from '../http/session.ts';
import type { ShopFlowModule } from '../modules/module.ts';
import { jobsModule } from '../modules/jobs/index.ts';
import { retentionModule } from '../modules/retention/index.ts';
import { auditModule } from '../modules/audit/index.ts';
import { privacyModule } from '../modules/privacy/index.ts';
import { archiveModule } from '../modules/archive/index.ts';
import { backupModule } from '../modules/backup/index.ts';
import { adminKeysModule } from '../modules/admin-keys/index.ts';
import { catalogModule } from '../modules/catalog/index.ts';
import { inventoryModule } from '../modules/inventory/index.ts';
import { ordersModule } from '../modules/orders/index.ts';
import { cartsModule } from '../modules/carts/index.ts';
import { checkoutModule } from '../modules/checkout/index.ts';
import { customersModule } from '../modules/customers/index.ts';
import { reviewsModule } from '../modules/reviews/index.ts';
import { paymentsModule } from '../modules/payments/index.ts';
import { statsModule } from '../modules/stats/index.ts';
import { realtimeModule } from '../modules/realtime/index.ts';
import { searchModule } from '../modules/search/index.ts';
import { uploadsModule } from '../modules/uploads/index.ts';
import { mediaModule } from '../modules/media/index.ts';
import { invoicesModule } from '../modules/invoices/index.ts';
import { housekeepingModule } from '../modules/housekeeping/index.ts';
import { eventsModule } from '../modules/events/index.ts';
import { promotionsModule } from '../modules/promotions/index.ts';
import { shippingModule } from '../modules/shipping/index.ts';
import { webhooksModule } from '../modules/webhooks/index.ts';

import type { Infrastructure } from './infrastructure.ts';
import type { Services } from './services.ts';

/** Catalog CSV imports one admin key may start per minute (each reads and writes up to 100,000 rows). */
const CATALOG_IMPORTS_PER_MINUTE = 10;

export function buildModules(
  config: AppConfig,
  infra: Infrastructure,
  s: Services,
  deps: { http: SessionHelpers; jobs: JobRunner; logger: Logger },
): ShopFlowModule[] {
  const { http: sessions, jobs, logger } = deps;
  // One throttle for every check of a customer's password (login, erasure).
  const throttle = new LoginThrottle(config.login, infra.redis ? { redis: infra.redis } : {});
  const storage = config.storage;
  return [
    catalogModule({
      catalog: s.catalog,
      files: s.catalogFiles,
      imports: infra.limiter(CATALOG_IMPORTS_PER_MINUTE, { prefix: 'rl:catalog-import', windowSeconds: 60 }),
    }),
    promotionsModule({ promotions: s.promotions }),
    customersModule({
      customers: s.customers,
      addresses: s.addresses,
      sessions,
      throttle,
      registrations: infra.limiter(config.registrationsPerAddressPerHour, {
        prefix: 'rl:register',
        windowSeconds: 3600,
      }),
    }),
    cartsModule({
      carts: s.carts,
      sessions,
      uploads: s.uploads,
      codeAttempts: {
        perSession: infra.limiter(config.promotionCodeAttempts.perSession, {
          prefix: 'rl:code-s',
          windowSeconds: 60,
        }),
        perAddress: infra.limiter(config.promotionCodeAttempts.perAddress, {
          prefix: 'rl:code-a',
          windowSeconds: 60,
        }),
      },
    }),
    checkoutModule({
      checkout: s.checkout,
      delivery: s.delivery,
      sessions,
      quotes: infra.limiter(config.shipping.quotesPerMinute, { prefix: 'rl:freight', windowSeconds: 60 }),
    }),
    ordersModule({
      orders: s.orders,
      sessions,
      pendingTtlMinutes: config.pendingOrders.ttlMinutes,
      timeZone: config.storeTimeZone,
    }),
    reviewsModule({ reviews: s.reviews, sessions }),
    searchModule({ search: s.search, logger }),
    uploadsModule({ uploads: s.uploads, sessions, objects: infra.objects, maxBytes: storage.uploadMaxBytes }),
    mediaModule({ media: s.media, imageMaxBytes: storage.imageMaxBytes }),
    invoicesModule({ invoices: s.invoices, sessions }),
    paymentsModule({ payments: s.payments, sessions, failedPaymentDays: config.retention.failedPaymentDays }),
    realtimeModule({
      realtime: s.realtime,
      maxConnectionsPerAddress: config.websocket.maxConnectionsPerAddress,
      maxMessagesPerSecond: config.websocket.maxMessagesPerSecond,
    }),
    adminKeysModule({ adminKeys: s.adminKeys }),
    inventoryModule({ inventory: s.inventory }),
    statsModule({ stats: s.stats }),
    housekeepingModule({
      pool: infra.primary,
      idempotency: s.idempotency,
      jobs,
      jobRunDays: config.retention.jobRunDays,
    }),
    eventsModule({
      bus: infra.bus,
      relay: infra.relay,
      retentionDays: config.jobs.outboxRetentionDays,
      metrics: infra.metrics,
      logger,
      metricsEnvironment: config.metricsEnvironment,
    }),
    jobsModule({ jobs }),
    retentionModule({ jobs }),
    auditModule({ audit: s.audit, retentionDays: config.retention.auditDays }),
    privacyModule({ privacy: s.privacy, customers: s.customers, sessions, throttle }),
    archiveModule({ archive: s.archive, sessions }),
    backupModule({ backup: s.backup }),
    shippingModule({
      shipping: s.shipping,
      cepLookup: s.cepLookup,
      cepLimiter: infra.limiter(config.cepLookup.perMinute, { prefix: 'rl:cep', windowSeconds: 60 }),
    }),
    webhooksModule({
      webhooks: s.webhooks,
      dispatcher: s.webhookDispatcher,
      pool: infra.primary,
      testLimiter: infra.limiter(config.webhooks.testsPerMinute, {
        prefix: 'rl:webhook-tests',
        windowSeconds: 60,
      }),
    }),
  ];
}
