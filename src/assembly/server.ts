/**
 * The HTTP server: Fastify with Zod validation at the edge, the error contract, request ids,
 * health, metrics and the generated OpenAPI document, and the routes of every module in the list.
 * Adding a module touches the list (src/app.ts), not this file.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cookie from '@fastify/cookie';
import multipart from '@fastify/multipart';
import websocket from '@fastify/websocket';
import {
  jsonSchemaTransform,
  jsonSchemaTransformObject,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import type { Logger } from 'pino';
import { registerErrorHandling } from '../http/error-handler.ts';
import { withErrorResponses } from '../http/schemas.ts';
import { registerRateLimit } from '../http/rate-limit.ts';
import { viewerAddressHook, type CdnViewer } from '../http/client-address.ts';
import { API_HEADER_POLICY, SECURITY_HEADER_POLICY, securityHeaders } from '../http/security-headers.ts';
import type { SessionHelpers } from '../http/session.ts';
import { AppError } from '../platform/errors.ts';
import type { HealthCheck } from '../platform/health.ts';
import { LazyChildLogger } from '../platform/logger.ts';
import type { Metrics } from '../platform/metrics.ts';
import type { RateLimiter } from '../platform/ratelimit/rate-limiter.ts';
import type { AuditEntry } from '../modules/audit/audit.service.ts';
import type { RouteNeed, RouteSet, ShopFlowModule } from '../modules/module.ts';
import { forbidden, holdsScope, type AdminRouteAccess } from '../http/admin-scopes.ts';
import { adminRouteRule } from './admin-routes.ts';
import { healthRoutes } from './health.routes.ts';
import { consoleHeaders, registerConsole, type ConsoleOptions } from './console.ts';

export interface ServerDeps {
  logger: Logger;
  bodyLimit: number;
  trustProxy: false | number | string[];
  /** Requests from the CDN carrying its origin secret are attributed to the viewer's address. */
  cdnViewer?: CdnViewer;
  metrics: Metrics;
  /** The platform's checks (database, Redis) and those the modules declare. */
  healthChecks: HealthCheck[];
  /** What /health/ready reports besides the dependencies (the active payment provider). */
  readyInfo: { paymentProvider: string };
  /** Set: /metrics requires it as a bearer token. */
  metricsToken?: string;
  modules: ShopFlowModule[];
  sessions: SessionHelpers;
  /** Resolves an admin API key to its id, name and scopes, or throws 401 (unknown, revoked, expired). */
  authenticateAdmin: (key: string) => Promise<{ keyId: string; name: string; scopes: readonly string[] }>;
  /**
   * Records each successful admin change (POST, PUT, PATCH, DELETE under /admin), and each
   * successful read of personal data (routes marked `auditRead` in the admin route table).
   */
  audit?: (entry: AuditEntry) => Promise<void>;
  /** Absent: rate limiting off (RATE_LIMIT_ENABLED=false). */
  rateLimit: { store: RateLimiter; admin: RateLimiter } | undefined;
  version: string;
  /** The operations console at /console (absent: not served). */
  console?: ConsoleOptions;
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;
const MULTIPART = { limits: { fileSize: 50 * 1024 * 1024, files: 1, fields: 20 } };

declare module 'fastify' {
  interface FastifyRequest {
    adminKeyId?: string;
    adminKeyName?: string;
    /** The scopes of the key that authenticated the request (`*`: all). */
    adminScopes?: readonly string[];
    /** What an admin route wants in its audit entry besides the route and target (never personal values). */
    auditDetails?: Record<string, unknown>;
  }
  interface FastifyContextConfig {
    /** Admin routes: the scope the route needs (from the admin route table); absent: `*` only. */
    adminAccess?: AdminRouteAccess;
    /** Admin routes: a read of personal data, audited. */
    auditRead?: boolean;
  }
}

/** Registers route sets; plugins that hook every request (multipart, WebSocket) only where needed. */
async function mount(app: FastifyInstance, sets: RouteSet[]): Promise<void> {
  for (const set of sets) {
    if (set.needs.length === 0) {
      await set.register(app);
      continue;
    }
    await app.register(async (scope) => {
      const needs = new Set<RouteNeed>(set.needs);
      if (needs.has('multipart')) await scope.register(multipart, MULTIPART);
      if (needs.has('websocket')) await scope.register(websocket, { options: { maxPayload: 64 * 1024 } });
      await set.register(scope);
    });
  }
}

/**
 * The worker's HTTP side: health and metrics only (`/health/live`, `/health/ready`, `/metrics`), so a
 * container or load balancer can probe a worker, and Prometheus can scrape the outbox gauges the
 * relay keeps.
 */
export async function buildHealthServer(
  deps: Pick<
    ServerDeps,
    'logger' | 'metrics' | 'healthChecks' | 'readyInfo' | 'metricsToken' | 'authenticateAdmin'
  >,
): Promise<FastifyInstance> {
  const app = Fastify({
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    return503OnClosing: true,
    forceCloseConnections: 'idle',
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  await app.register(
    healthRoutes(deps.healthChecks, deps.metrics, {
      paymentProvider: deps.readyInfo.paymentProvider,
      authenticateAdmin: deps.authenticateAdmin,
      ...(deps.metricsToken ? { metricsToken: deps.metricsToken } : {}),
    }),
  );
  return app;
}

export async function buildServer(deps: ServerDeps): Promise<FastifyInstance> {
  const app = newServer(deps);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  registerResponseHooks(app, deps);
  await registerDocs(app, deps.version);
  // Cookies are parsed when a route asks for the session (see http/session.ts), not on every
  // request: the hottest routes (product pages, search) never read them.
  await app.register(cookie, { hook: false });
  // Before the rate limit: the address it keys on is the viewer's for requests from the CDN.
  if (deps.cdnViewer) app.addHook('onRequest', viewerAddressHook(deps.cdnViewer));
  if (deps.rateLimit)
    registerRateLimit(app, {
      ...deps.rateLimit,
      sessions: deps.sessions,
      authenticateAdmin: deps.authenticateAdmin,
      logger: deps.logger,
    });

  await app.register(
    healthRoutes(deps.healthChecks, deps.metrics, {
      paymentProvider: deps.readyInfo.paymentProvider,
      authenticateAdmin: deps.authenticateAdmin,
      ...(deps.metricsToken ? { metricsToken: deps.metricsToken } : {}),
    }),
  );
  if (deps.console) await registerConsole(app, deps.console);
  const sets = deps.modules.flatMap((m) => m.routes ?? []);
  await mount(
    app,
    sets.filter((s) => s.scope === 'public'),
  );

  await app.register((admin) =>
    mountAdmin(
      admin,
      deps,
      sets.filter((s) => s.scope === 'admin'),
    ),
  );
  return app;
}

/** The Fastify instance: logger, body limit, proxies trusted, request ids, router options. */
function newServer(deps: ServerDeps) {
  return Fastify({
    // pino's Logger is a FastifyBaseLogger; without the widening Fastify infers an incompatible instance type.
    // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-assertion
    loggerInstance: deps.logger as FastifyBaseLogger,
    bodyLimit: deps.bodyLimit,
    // A hop count trusts the nearest N proxies (the function form of Fastify's numeric option).
    trustProxy:
      typeof deps.trustProxy === 'number'
        ? (
            (n: number) => (_address: string, hop: number) =>
              hop < n
          )(deps.trustProxy)
        : deps.trustProxy,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    return503OnClosing: true,
    forceCloseConnections: 'idle',
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 500 },
    // Each request's logger is made on its first log line (most requests write none).
    childLoggerFactory: (logger, bindings, options) =>
      new LazyChildLogger(logger as Logger, bindings, options) as unknown as FastifyBaseLogger,
  }).withTypeProvider<ZodTypeProvider>();
}

/** Security headers and the request id on every answer; the request-duration histogram. */
function registerResponseHooks(app: FastifyInstance, deps: ServerDeps): void {
  // Callback hooks, not async ones: they run on every request, and a promise each is measurable.
  // Security headers (helmet's, computed once at start) go on every answer with the request id:
  // the short REST set on API answers, the full set on the OpenAPI UI's pages.
  const apiHeaders = securityHeaders(API_HEADER_POLICY);
  const pageHeaders = securityHeaders(SECURITY_HEADER_POLICY);
  const consolePageHeaders = deps.console ? consoleHeaders(deps.console) : apiHeaders;
  app.addHook('onSend', (request, reply, payload, done) => {
    void reply.headers(
      request.url.startsWith('/docs')
        ? pageHeaders
        : request.url.startsWith('/console')
          ? consolePageHeaders
          : apiHeaders,
    );
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
}

/** The OpenAPI document (with the error answers) and its UI at /docs. */
async function registerDocs(app: FastifyInstance, version: string): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'ShopFlow API',
        version,
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
    transformObject: withErrorResponses(jsonSchemaTransformObject),
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
}

// Everything under /admin requires an admin API key holding the scope the route needs (the
// admin route table, src/assembly/admin-routes.ts: one line per route; none: `*` keys only).
async function mountAdmin(admin: FastifyInstance, deps: ServerDeps, sets: RouteSet[]): Promise<void> {
  admin.addHook('onRoute', (route) => {
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const rule = adminRouteRule(methods[0]!, route.url);
    if (rule)
      route.config = { ...route.config, adminAccess: rule.access, auditRead: rule.auditRead === true };
    const scopes = rule && rule.access !== 'authenticated' ? [rule.access] : rule ? [] : ['*'];
    route.schema = { ...route.schema, security: [{ adminKey: scopes }] };
  });
  admin.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header) : null;
    if (!match) throw AppError.unauthorized('An admin API key is required (Authorization: Bearer <key>)');
    const key = await deps.authenticateAdmin(match[1]!);
    request.adminKeyId = key.keyId;
    request.adminKeyName = key.name;
    request.adminScopes = key.scopes;
    const needed = request.routeOptions.config.adminAccess;
    if (needed ? !holdsScope(key.scopes, needed) : !key.scopes.includes('*'))
      throw forbidden(`This API key lacks the '${needed ?? '*'}' scope`, { scope: needed ?? '*' });
  });
  // The audit trail: after every successful change, and every successful read of personal data,
  // who did what to which target. Written after the response; a failure to write it is logged as
  // an error.
  const audit = deps.audit;
  if (audit)
    admin.addHook('onResponse', async (request, reply) => {
      const read = request.method === 'GET' || request.method === 'HEAD';
      if ((read && !request.routeOptions.config.auditRead) || reply.statusCode >= 400) return;
      if (!request.adminKeyId) return;
      const route = request.routeOptions.url ?? request.url.split('?')[0]!;
      const params = (request.params ?? {}) as Record<string, unknown>;
      const target = ['id', 'productId', 'name'].map((k) => params[k]).find((v) => typeof v === 'string');
      await audit({
        actorKeyId: request.adminKeyId,
        actorName: request.adminKeyName ?? 'unknown',
        action: `${request.method} ${route}`,
        targetType: route.split('/')[2] ?? null,
        targetId: target ?? null,
        status: reply.statusCode,
        requestId: request.id,
        details: request.auditDetails ?? null,
      }).catch((err: unknown) => request.log.error({ err }, 'audit entry not written'));
    });
  await mount(admin, sets);
}
