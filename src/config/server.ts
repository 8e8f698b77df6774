/** The process: role, HTTP listener, logging, data directory, time zone, WebSocket limits. */
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import { z } from 'zod';
import { bool, int, type EnvOf } from './kit.ts';

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const serverEnv = {
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SHOPFLOW_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  SHOPFLOW_DATA_DIR: z.string().min(1).default('.shopflow'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  NODE_ENV: z.enum(['production', 'development', 'test']).optional(),
  BODY_LIMIT_BYTES: int(1024, 1_073_741_824).default(1_048_576),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  COOKIE_SECURE: bool.optional(),
  TRUST_PROXY: z
    .string()
    .refine(
      (v) =>
        v === 'false' ||
        /^([1-9]|1\d|20)$/.test(v) ||
        v.split(',').every((p) => ipaddr.isValid(p.trim()) || ipaddr.isValidCIDR(p.trim())),
      'false, a hop count (1-20), or a comma-separated list of proxy addresses or CIDR ranges',
    )
    .optional(),
  METRICS_TOKEN: z.string().min(16).optional(),
  CDN_ORIGIN_SECRET: z.string().min(32).max(256).optional(),
  CDN_ORIGIN_SECRET_HEADER: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'a lower-case header name')
    .default('x-shopflow-origin-secret'),
  CDN_VIEWER_ADDRESS_HEADER: z
    .string()
    .regex(/^[a-z0-9-]{1,64}$/, 'a lower-case header name')
    .default('cloudfront-viewer-address'),
  METRICS_ENVIRONMENT: z
    .string()
    .regex(/^[a-z0-9-]{1,32}$/, 'lower-case letters, digits and -')
    .default('default'),
  STORE_TIME_ZONE: z
    .string()
    .refine((tz) => {
      try {
        new Intl.DateTimeFormat('en', { timeZone: tz });
        return true;
      } catch {
        return false;
      }
    }, 'an IANA time zone, e.g. America/Sao_Paulo')
    .default('America/Sao_Paulo'),
  WS_MAX_CONNECTIONS_PER_ADDRESS: int(1, 100_000).default(20),
  WS_MAX_MESSAGES_PER_SECOND: int(1, 10_000).default(10),
};

export interface ServerConfig {
  role: 'all' | 'api' | 'worker';
  http: {
    host: string;
    port: number;
    bodyLimit: number;
    shutdownGraceMs: number;
    secureCookie: boolean;
    /**
     * Which proxies' X-Forwarded-For to believe: none (false), the nearest N hops, or these
     * addresses/ranges. Decides the client address that rate limits are keyed by.
     */
    trustProxy: false | number | string[];
    /** Set: /metrics answers only `Authorization: Bearer <token>`. */
    metricsToken?: string;
    /**
     * Set: a request carrying `secretHeader` equal to `secret` (the CDN's origin secret) is
     * attributed to the address in `viewerHeader` (the viewer the CDN served), not the CDN's.
     */
    cdnViewer?: { secret: string; secretHeader: string; viewerHeader: string };
  };
  log: { level: (typeof LOG_LEVELS)[number] };
  dataDir: string;
  /** `production` turns the embedded and test-only defaults into startup errors. */
  production: boolean;
  /** Limits of the stock WebSocket, per process. */
  websocket: { maxConnectionsPerAddress: number; maxMessagesPerSecond: number };
  /** The `environment` dimension of the metrics published to CloudWatch. */
  metricsEnvironment: string;
  /** The store's time zone (IANA): where the console's "today" starts and how it shows dates. */
  storeTimeZone: string;
}

export function serverConfig(e: EnvOf<typeof serverEnv>): ServerConfig {
  return {
    role: e.SHOPFLOW_ROLE,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimit: e.BODY_LIMIT_BYTES,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
      ...(e.CDN_ORIGIN_SECRET
        ? {
            cdnViewer: {
              secret: e.CDN_ORIGIN_SECRET,
              secretHeader: e.CDN_ORIGIN_SECRET_HEADER,
              viewerHeader: e.CDN_VIEWER_ADDRESS_HEADER,
            },
          }
        : {}),
      // Secure unless the server only listens on this machine (plain-HTTP local development).
      secureCookie: e.COOKIE_SECURE ?? !['127.0.0.1', '::1', 'localhost'].includes(e.HOST),
      trustProxy:
        e.TRUST_PROXY === undefined || e.TRUST_PROXY === 'false'
          ? false
          : /^\d+$/.test(e.TRUST_PROXY)
            ? Number(e.TRUST_PROXY)
            : e.TRUST_PROXY.split(',').map((p) => p.trim()),
    },
    log: { level: e.LOG_LEVEL },
    dataDir: path.resolve(e.SHOPFLOW_DATA_DIR),
    production: e.NODE_ENV === 'production',
    websocket: {
      maxConnectionsPerAddress: e.WS_MAX_CONNECTIONS_PER_ADDRESS,
      maxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
    },
    metricsEnvironment: e.METRICS_ENVIRONMENT,
    storeTimeZone: e.STORE_TIME_ZONE,
  };
}
