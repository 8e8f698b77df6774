/**
 * The HTTP transport: Fastify with Zod validation at the edge, the error contract of API.md,
 * request ids, health, metrics and the generated OpenAPI document.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { registerErrorHandling } from './error-handler.ts';
import { healthRoutes } from './health.routes.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { HealthCheck } from '../platform/health.ts';
import cookie from '@fastify/cookie';
import type { Database } from '../platform/db/pool.ts';
import type { AdminKeysService } from '../modules/admin-keys/admin-keys.service.ts';
import { adminKeysRoutes } from '../modules/admin-keys/admin-keys.routes.ts';
import type { CatalogService } from '../modules/catalog/catalog.service.ts';
import { catalogAdminRoutes, catalogStoreRoutes } from '../modules/catalog/catalog.routes.ts';
import type { InventoryService } from '../modules/inventory/inventory.service.ts';
import { inventoryAdminRoutes } from '../modules/inventory/inventory.routes.ts';
import type { OrdersService } from '../modules/orders/orders.service.ts';
import { ordersAdminRoutes, ordersStoreRoutes } from '../modules/orders/orders.routes.ts';
import type { CartsService } from '../modules/carts/carts.service.ts';
import { cartsRoutes } from '../modules/carts/carts.routes.ts';
import type { CustomersService } from '../modules/customers/customers.service.ts';
import { customersRoutes } from '../modules/customers/customers.routes.ts';
import type { IdempotencyService } from '../modules/idempotency/idempotency.service.ts';
import type { SessionStore } from '../modules/auth/session-store.ts';
import type { ReviewsService } from '../modules/reviews/reviews.service.ts';
import { reviewsRoutes } from '../modules/reviews/reviews.routes.ts';
import type { PaymentsService } from '../modules/payments/payments.service.ts';
import { paymentsAdminRoutes, paymentsStoreRoutes } from '../modules/payments/payments.routes.ts';
import type { StatsService } from '../modules/stats/stats.service.ts';
import { statsAdminRoutes } from '../modules/stats/stats.routes.ts';
import { AppError } from '../platform/errors.ts';
import { createSessionHelpers } from './session.ts';
import websocket from '@fastify/websocket';
import type { RealtimeService } from '../modules/realtime/realtime.service.ts';
import { realtimeRoutes } from '../modules/realtime/realtime.routes.ts';
import type { RateLimiter } from '../platform/ratelimit/rate-limiter.ts';
import { registerRateLimit } from './rate-limit.ts';
import type { SearchService } from '../modules/search/search.service.ts';
import multipart from '@fastify/multipart';
import type { UploadsService } from '../modules/uploads/uploads.service.ts';
import { uploadsRoutes } from '../modules/uploads/uploads.routes.ts';
import type { ObjectStore } from '../platform/storage/object-store.ts';
import { LocalObjectStore } from '../platform/storage/local.object-store.ts';
import { localStorageRoutes } from './storage.routes.ts';
import type { MediaService } from '../modules/media/media.service.ts';
import type { InvoicesService } from '../modules/invoices/invoices.service.ts';
import { invoicesRoutes } from '../modules/invoices/invoices.routes.ts';
import { mediaAdminRoutes, mediaPublicRoutes } from '../modules/media/media.routes.ts';
import { searchAdminRoutes, searchStoreRoutes } from '../modules/search/search.routes.ts';
import type { PlacementDeps } from './idempotent.ts';

export interface ServerDeps {
  logger: Logger;
  bodyLimit: number;
  metrics: Metrics;
  healthChecks: HealthCheck[];
  db: Database;
  secureCookie: boolean;
  /** Absent: rate limiting off (RATE_LIMIT_ENABLED=false). */
  rateLimit: { store: RateLimiter; admin: RateLimiter } | undefined;
  services: HttpServices;
  objects: ObjectStore;
  imageMaxBytes: number;
  version: string;
}

/** What the HTTP layer calls. */
export interface HttpServices {
  adminKeys: AdminKeysService;
  catalog: CatalogService;
  inventory: InventoryService;
  orders: OrdersService;
  carts: CartsService;
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
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MULTIPART = { limits: { fileSize: 50 * 1024 * 1024, files: 1, fields: 20 } };

declare module 'fastify' {
  interface FastifyRequest {
    adminKeyId?: string;
  }
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = Fastify({
    // pino's Logger is a FastifyBaseLogger; without the widening Fastify infers an incompatible instance type.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);

  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.header('x-request-id', request.id);
    done(null, payload);
  });
  // One histogram child per method, route and status (a bounded set), looked up by a string key
  // rather than by hashing a label object on every response.
  const durations = new Map<string, { observe(seconds: number): void }>();
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const key = `${request.method} ${route} ${reply.statusCode}`;
    let observer = durations.get(key);
    if (!observer) {
      observer = deps.metrics.httpDuration.labels(request.method, route, String(reply.statusCode));
      durations.set(key, observer);
    }
    observer.observe(reply.elapsedTime / 1000);
    done();
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ShopFlow API',
        version: deps.version,
        description:
          'The data and persistence platform of an e-commerce store. Money is integer centavos (BRL).',
      },
      components: {
        securitySchemes: {
          adminKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'Admin API key (`shopflow admin create-key`)',
          },
        },
      },
    },
    transform: jsonSchemaTransform,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  await app.register(cookie);
  const svc = deps.services;
  const sessions = createSessionHelpers(svc.sessions, { secureCookie: deps.secureCookie });
  const placement: PlacementDeps = {
    db: deps.db,
    sessions,
    idempotency: svc.idempotency,
    notify: (levels) => svc.inventory.notify(levels),
  };

  if (deps.rateLimit) registerRateLimit(app, { ...deps.rateLimit, sessions, logger: deps.logger });
  // Plugins that hook every request of their context (WebSocket upgrades, multipart bodies) are
  // registered only in the contexts of the routes that need them: the rest of the API does not
  // pay for them on each request.
  await app.register(async (ws) => {
    await ws.register(websocket, { options: { maxPayload: 64 * 1024 } });
    await realtimeRoutes(ws, svc.realtime);
  });

  await app.register(healthRoutes(deps.healthChecks, deps.metrics));
  await app.register(catalogStoreRoutes(svc.catalog));
  await app.register(customersRoutes(svc.customers, sessions));
  await app.register(cartsRoutes(svc.carts, sessions, placement, svc.uploads));
  await app.register(ordersStoreRoutes(svc.orders, sessions, placement, svc.uploads));
  await app.register(reviewsRoutes(svc.reviews, sessions));
  await app.register(searchStoreRoutes(svc.search));
  await app.register(uploadsRoutes(svc.uploads, sessions));
  await app.register(mediaPublicRoutes(svc.media));
  await app.register(invoicesRoutes(svc.invoices, sessions));
  const objects = deps.objects;
  if (objects instanceof LocalObjectStore)
    await app.register(async (files) => {
      await files.register(multipart, MULTIPART);
      await localStorageRoutes(files, objects);
    });
  await app.register(paymentsStoreRoutes(svc.payments, sessions));

  // Everything under /admin requires an admin API key.
  await app.register(async (admin) => {
    admin.addHook('onRoute', (route) => {
      route.schema = { ...route.schema, security: [{ adminKey: [] }] };
    });
    admin.addHook('onRequest', async (request) => {
      const header = request.headers.authorization;
      const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
      if (!match) throw AppError.unauthorized('An admin API key is required (Authorization: Bearer <key>)');
      request.adminKeyId = (await svc.adminKeys.authenticate(match[1])).keyId;
    });
    await admin.register(adminKeysRoutes(deps.services.adminKeys));
    await admin.register(catalogAdminRoutes(svc.catalog));
    await admin.register(inventoryAdminRoutes(svc.inventory));
    await admin.register(ordersAdminRoutes(svc.orders));
    await admin.register(paymentsAdminRoutes(svc.payments));
    await admin.register(statsAdminRoutes(svc.stats));
    await admin.register(searchAdminRoutes(svc.search, deps.logger));
    await admin.register(async (media) => {
      await media.register(multipart, MULTIPART);
      await media.register(mediaAdminRoutes(svc.media, deps.imageMaxBytes));
    });
  });

  return app;
}
