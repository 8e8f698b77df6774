/**
 * The composition root: builds every adapter (composition/infrastructure.ts) and every service
 * (composition/services.ts) from the typed config, by hand, then the list of modules
 * (composition/modules.ts: each declares its routes, consumers, jobs and health checks), and hands
 * back one object that owns them all and closes them in the reverse order of opening. The server,
 * the worker and every CLI command get what they use from here.
 */
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { AppConfig } from './config.ts';
import { VERSION } from './version.ts';
import { buildHealthServer, buildServer } from './assembly/server.ts';
import { CONSOLE_DIR } from './assembly/console.ts';
import { createWorker, type Worker } from './assembly/worker.ts';
import { JobRunner } from './platform/jobs/runner.ts';
import { createSessionHelpers } from './http/session.ts';
import type { Database } from './platform/db/pool.ts';
import type { EmbeddedPostgresHandle } from './platform/db/embedded.ts';
import { Resources } from './platform/lifecycle.ts';
import type { Metrics } from './platform/metrics.ts';
import type { HealthCheck } from './platform/health.ts';
import type { RedisClient } from './platform/redis/client.ts';
import type { RateLimiter } from './platform/ratelimit/rate-limiter.ts';
import type { EventBus } from './platform/events/bus.ts';
import type { OutboxRelay } from './platform/events/relay.ts';
import type { ObjectStore } from './platform/storage/object-store.ts';
import type { ShopFlowModule } from './modules/module.ts';
import {
  buildInfrastructure,
  settleSubscriptions,
  type Infrastructure,
} from './composition/infrastructure.ts';
import { buildServices, type Services } from './composition/services.ts';
import type { Resolver } from './platform/net/public-address.ts';
import { buildModules } from './composition/modules.ts';

export { createObjectStore } from './composition/infrastructure.ts';
export type { Services } from './composition/services.ts';

export interface AppOptions {
  logger: Logger;
  /** Apply pending migrations first (`serve --migrate`, and always on the embedded database). */
  migrate?: boolean;
  /** How webhook host names resolve (tests point names at chosen addresses); the system's DNS by default. */
  webhookResolver?: Resolver;
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
    const infra = await buildInfrastructure(config, logger, resources, options);
    const services = buildServices(
      config,
      infra,
      logger,
      resources,
      options.webhookResolver ? { webhookResolver: options.webhookResolver } : {},
    );
    await settleSubscriptions(infra);
    const http = createSessionHelpers(infra.sessions, {
      secureCookie: config.http.secureCookie,
      guests: infra.guests,
    });
    const jobs = resources.add(
      'jobs',
      new JobRunner({
        pool: infra.primary,
        logger,
        overrides: config.jobs.scheduleOverrides,
        cronCheckSeconds: config.jobs.scheduleCheckSeconds,
      }),
      (r) => r.stop(),
    );
    const modules = buildModules(config, infra, services, { http, jobs, logger });
    jobs.register(modules.flatMap((m) => m.jobs ?? []));
    const healthChecks = [...platformHealthChecks(infra), ...modules.flatMap((m) => m.health ?? [])];
    const { bus, relay } = infra;
    const worker = resources.add('worker', createWorker({ modules, bus, relay, jobs, logger }), (w) =>
      w.stop(),
    );
    const shared = {
      logger,
      metrics: infra.metrics,
      healthChecks,
      readyInfo: { paymentProvider: config.payments.provider },
      ...(config.http.metricsToken ? { metricsToken: config.http.metricsToken } : {}),
      authenticateAdmin: (key: string) => services.adminKeys.authenticate(key),
    };
    return {
      config,
      db: infra.db,
      databaseUrl: infra.resolved.url,
      ...(infra.resolved.embedded ? { embedded: infra.resolved.embedded } : {}),
      metrics: infra.metrics,
      services,
      modules,
      ...(infra.redis ? { redis: infra.redis } : {}),
      rateLimiters: infra.rateLimiters,
      bus,
      relay,
      objects: infra.objects,
      healthChecks,
      jobs,
      worker,
      buildServer: () =>
        buildServer({
          ...shared,
          bodyLimit: config.http.bodyLimit,
          trustProxy: config.http.trustProxy,
          ...(config.http.cdnViewer ? { cdnViewer: config.http.cdnViewer } : {}),
          modules,
          sessions: http,
          audit: (entry) => services.audit.record(entry),
          rateLimit: config.rateLimit.enabled ? infra.rateLimiters : undefined,
          version: VERSION,
          console: { dir: CONSOLE_DIR, ...consoleOrigins(config.storage) },
        }),
      buildHealthServer: () => buildHealthServer(shared),
      close: () => resources.close(),
    };
  } catch (error) {
    await resources.close();
    throw error;
  }
}

/** The platform's own checks: the primary (required), the replica and Redis (optional). */
function platformHealthChecks(infra: Infrastructure): HealthCheck[] {
  const checks: HealthCheck[] = [
    { name: 'database', required: true, check: () => infra.primary.query('SELECT 1') },
  ];
  const { replica, redis, cacheStore } = infra;
  if (replica)
    checks.push({ name: 'databaseReplica', required: false, check: () => replica.query('SELECT 1') });
  if (redis) checks.push({ name: 'redis', required: false, check: () => cacheStore.ping() });
  return checks;
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
