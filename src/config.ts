/**
 * Typed configuration, parsed once from the environment.
 *
 * This is the only module that reads `process.env`. Every invalid variable is reported at once
 * (a {@link ConfigError} lists them all), and the result is deeply frozen.
 */
import path from 'node:path';
import ipaddr from 'ipaddr.js';
import cronParser from 'cron-parser';
import { z } from 'zod';
import type { BucketName } from './platform/storage/object-store.ts';
import type { PoolSettings } from './platform/db/pool.ts';
import type { DatabaseTarget } from './platform/db/resolve.ts';

export type { BucketName, PoolSettings };

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');
const int = (min: number, max: number) => z.coerce.number().int().min(min).max(max);
const postgresUrl = z
  .string()
  .url()
  .refine((u) => /^postgres(ql)?:\/\//.test(u), 'must be a postgres:// or postgresql:// URL');

/**
 * Every scheduled job and its default schedule (cron, UTC). Each has a variable
 * `CRON_<NAME>` (dashes as underscores) taking a five-field cron expression or `off`.
 */
export const JOB_SCHEDULES = {
  'expire-pending-orders': '* * * * *',
  'refresh-product-stats': '*/5 * * * *',
  'search-popularity-sync': '*/5 * * * *',
  'search-reconcile': '*/15 * * * *',
  'expire-transient-rows': '*/10 * * * *',
  'prune-outbox': '17 * * * *',
  'purge-guest-carts': '30 3 * * *',
  'purge-failed-payments': '40 3 * * *',
  'reconcile-payments': '*/2 * * * *',
  'prune-history': '50 3 * * *',
  'prune-audit-log': '55 3 * * *',
  'archive-orders': '0 4 * * *',
  'backup-create': '7 * * * *',
  'backup-verify': '30 5 * * *',
  'backup-prune': '45 5 * * *',
  // CloudWatch's embedded metrics; the AWS infrastructure turns it on (every minute).
  'publish-cloudwatch-metrics': 'off',
} as const;
export type JobName = keyof typeof JOB_SCHEDULES;

export const cronVariable = (job: string) => `CRON_${job.toUpperCase().replace(/-/g, '_')}`;

const cronExpression = z.string().refine((v) => {
  if (v === 'off') return true;
  try {
    cronParser.parseExpression(v, { tz: 'UTC' });
    return v.trim().split(/\s+/).length === 5;
  } catch {
    return false;
  }
}, 'must be a five-field cron expression (minute hour day month weekday, UTC) or off');

function cronVariables() {
  return Object.fromEntries(
    Object.entries(JOB_SCHEDULES).map(([job, cron]) => [cronVariable(job), cronExpression.default(cron)]),
  ) as Record<string, z.ZodDefault<typeof cronExpression>>;
}

const EnvSchema = z.object({
  PORT: int(0, 65535).default(3000),
  HOST: z.string().min(1).default('127.0.0.1'),
  SHOPFLOW_ROLE: z.enum(['all', 'api', 'worker']).default('all'),
  SHOPFLOW_DATA_DIR: z.string().min(1).default('.shopflow'),
  LOG_LEVEL: z.enum(LOG_LEVELS).default('info'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_READ_URL: postgresUrl.optional(),
  DB_HOST: z.string().min(1).optional(),
  DB_PORT: int(1, 65535).default(5432),
  DB_NAME: z.string().min(1).default('shopflow'),
  DB_USER: z.string().min(1).default('postgres'),
  DB_PASSWORD: z.string().optional(),
  DB_READ_HOST: z.string().min(1).optional(),
  DB_SSL_MODE: z.enum(['disable', 'require', 'verify-full']).optional(),
  DB_SSL_ROOT_CERT: z.string().min(1).optional(),
  DB_POOL_MAX: int(1, 1000).default(20),
  DB_IDLE_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  DB_CONNECTION_TIMEOUT_MS: int(0, 600_000).default(2_000),
  DB_STATEMENT_TIMEOUT_MS: int(0, 3_600_000).default(30_000),
  MIGRATION_LOCK_TIMEOUT_MS: int(0, 600_000).default(5_000),
  EMBEDDED_PG_PORT: int(1, 65535).default(54329),
  SEED_DEMO_PRODUCTS: int(0, 10_000_000).default(1000),
  RATE_LIMIT_ENABLED: bool.default(true),
  RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(1000),
  CACHE_TTL_SECONDS: int(1, 31_536_000).default(3600),
  BODY_LIMIT_BYTES: int(1024, 1_073_741_824).default(1_048_576),
  SHUTDOWN_GRACE_MS: int(0, 600_000).default(10_000),
  COOKIE_SECURE: bool.optional(),
  REDIS_URL: z
    .string()
    .refine((u) => /^rediss?:\/\//.test(u), 'must be a redis:// or rediss:// URL')
    .optional(),
  REDIS_CLUSTER_NODES: z
    .string()
    .refine(
      (v) => v.split(',').every((n) => /^[^:\s]+:\d+$/.test(n.trim())),
      'must be host:port[,host:port...]',
    )
    .optional(),
  REDIS_COMMAND_TIMEOUT_MS: int(10, 60_000).default(250),
  REDIS_TLS: bool.default(false),
  REDIS_PASSWORD: z.string().min(1).optional(),
  SESSION_STORE: z.enum(['redis', 'postgres', 'memory']).optional(),
  AMQP_URL: z
    .string()
    .refine((u) => /^amqps?:\/\//.test(u), 'must be an amqp:// or amqps:// URL')
    .optional(),
  AMQP_USERNAME: z.string().min(1).optional(),
  AMQP_PASSWORD: z.string().min(1).optional(),
  SEARCH_ENGINE: z.enum(['postgres', 'opensearch', 'elasticsearch']).default('postgres'),
  OPENSEARCH_USERNAME: z.string().min(1).optional(),
  OPENSEARCH_PASSWORD: z.string().min(1).optional(),
  OPENSEARCH_URL: z.string().url().optional(),
  SEARCH_INDEX: z
    .string()
    .regex(/^[a-z0-9_-]{1,100}$/)
    .default('products'),
  STORAGE_DRIVER: z.enum(['local', 's3']).optional(),
  S3_ENDPOINT: z.string().url().optional(),
  S3_REGION: z.string().min(1).optional(),
  S3_FORCE_PATH_STYLE: bool.default(false),
  S3_BUCKET_PRODUCT_IMAGES: z.string().min(3).default('shopflow-products-images'),
  S3_BUCKET_USER_UPLOADS: z.string().min(3).default('shopflow-user-uploads'),
  S3_BUCKET_INVOICES: z.string().min(3).default('shopflow-invoices'),
  S3_BUCKET_ARCHIVE: z.string().min(3).default('shopflow-archive'),
  S3_BUCKET_BACKUPS: z.string().min(3).default('shopflow-backups'),
  CDN_BASE_URL: z.string().url().optional(),
  PUBLIC_BASE_URL: z.string().url().optional(),
  STORAGE_SIGNING_SECRET: z.string().min(32).optional(),
  UPLOAD_MAX_BYTES: int(1, 1_073_741_824).default(10 * 1024 * 1024),
  IMAGE_MAX_BYTES: int(1, 1_073_741_824).default(10 * 1024 * 1024),
  ADMIN_RATE_LIMIT_PER_MINUTE: int(1, 10_000_000).default(6000),
  CACHE_NEGATIVE_TTL_SECONDS: int(1, 3600).default(30),
  CACHE_NEAR_MAX_ENTRIES: int(0, 10_000_000).default(50_000),
  CACHE_NEAR_TTL_SECONDS: int(1, 86_400).default(30),
  SEARCH_CACHE_MAX_ENTRIES: int(0, 1_000_000).default(10_000),
  SEARCH_CACHE_TTL_SECONDS: int(1, 86_400).default(60),
  LISTING_CACHE_TTL_SECONDS: int(1, 86_400).default(60),
  OUTBOX_RETENTION_DAYS: int(0, 3650).default(7),
  JOB_SCHEDULE_CHECK_SECONDS: int(1, 30).default(30),
  CART_RETENTION_DAYS: int(1, 3650).default(30),
  FAILED_PAYMENT_RETENTION_DAYS: int(1, 3650).default(90),
  JOB_RUN_RETENTION_DAYS: int(1, 3650).default(90),
  AUDIT_RETENTION_DAYS: int(1, 36500).default(730),
  ARCHIVE_ORDERS_AFTER_DAYS: int(1, 36500).default(730),
  BACKUP_RETENTION_DAYS: int(1, 36500).default(30),
  BACKUP_RETENTION_COUNT: int(0, 100_000).default(48),
  BACKUP_VERIFY_DB_HOST: z.string().min(1).optional(),
  BACKUP_VERIFY_DB_USER: z.string().min(1).optional(),
  BACKUP_VERIFY_DB_PASSWORD: z.string().min(1).optional(),
  DB_APP_USER: z.string().min(1).optional(),
  DB_APP_PASSWORD: z.string().min(1).optional(),
  DB_MIGRATE_USER: z.string().min(1).optional(),
  DB_MIGRATE_PASSWORD: z.string().min(1).optional(),
  PG_BIN_DIR: z.string().min(1).optional(),
  PATH: z.string().default(''),
  S3_REPLICATION_ROLE_ARN: z
    .string()
    .regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/, 'must be an IAM role ARN')
    .optional(),
  S3_REPLICA_BUCKET_SUFFIX: z
    .string()
    .regex(/^[a-z0-9.-]{1,40}$/)
    .optional(),
  ...cronVariables(),
  LOGIN_FAILS_PER_ADDRESS_PER_DAY: int(1, 1_000_000).default(100),
  LOGIN_CONSECUTIVE_FAILS: int(1, 10_000).default(10),
  LOGIN_FAILS_PER_ACCOUNT_PER_HOUR: int(1, 1_000_000).default(50),
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
  PENDING_ORDER_TTL_MINUTES: int(1, 100_000).default(30),
  MAX_PENDING_ORDERS_PER_SESSION: int(1, 10_000).default(10),
  MAX_PENDING_ORDERS_PER_ADDRESS: int(0, 10_000_000).default(50),
  METRICS_TOKEN: z.string().min(16).optional(),
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
  PASSWORD_HASH_COST: int(14, 20).default(17),
  REGISTRATIONS_PER_ADDRESS_PER_HOUR: int(1, 1_000_000).default(10),
  IMAGE_RENDER_CONCURRENCY: int(1, 64).default(2),
  GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: int(0, 10_000_000).default(200),
  MEMORY_SESSIONS_MAX: int(1000, 100_000_000).default(100_000),
  NODE_ENV: z.enum(['production', 'development', 'test']).optional(),
  PAYMENT_PROVIDER: z.enum(['test', 'stripe', 'none']).optional(),
  PAYMENT_METHODS: z
    .string()
    .regex(/^(card|pix|boleto)(,(card|pix|boleto))*$/, 'a comma-separated list of card, pix, boleto')
    .default('card,pix,boleto'),
  PIX_EXPIRY_MINUTES: int(1, 1440).default(30),
  BOLETO_EXPIRY_DAYS: int(1, 60).default(3),
  BOLETO_CLEARING_DAYS: int(0, 10).default(2),
  PAYMENT_RECONCILE_AFTER_MINUTES: int(1, 1440).default(5),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(
      /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/,
      'a Stripe secret or restricted key (sk_test_..., sk_live_...)',
    )
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9_+/=]+$/, 'a Stripe endpoint secret (whsec_...)')
    .optional(),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: int(10, 3600).default(300),
  STRIPE_API_HOST: z.string().min(1).max(255).optional(),
  STRIPE_API_PORT: int(1, 65535).optional(),
  STRIPE_API_PROTOCOL: z.enum(['http', 'https']).optional(),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits and _.:- only (no braces: they are hash tags)')
    .optional(),
});

export type DatabaseConfig = DatabaseTarget;

export type PaymentMethod = 'card' | 'pix' | 'boleto';

export interface PaymentsConfig {
  provider: 'test' | 'stripe' | 'none';
  /** The methods offered to payers (a provider may support fewer). */
  methods: PaymentMethod[];
  /** How long a PIX code can be paid; how many days a boleto, and the days it takes to clear. */
  pixExpiryMinutes: number;
  boletoExpiryDays: number;
  boletoClearingDays: number;
  /** Pending attempts older than this are settled by asking the provider. */
  reconcileAfterMinutes: number;
  stripe?: {
    secretKey: string;
    webhookSecret: string;
    webhookToleranceSeconds: number;
    /** A stand-in for api.stripe.com (a local recording endpoint in tests, a Stripe mock). */
    api?: { host?: string; port?: number; protocol?: 'http' | 'https' };
  };
}

export interface StorageConfig {
  driver: 'local' | 's3';
  /** Local driver: where objects live. */
  dir: string;
  s3: {
    endpoint?: string;
    region: string;
    forcePathStyle: boolean;
    /** Cross-region replication of the invoices and backups buckets (storage setup applies it). */
    replication?: { roleArn: string; bucketSuffix: string };
  };
  buckets: Record<BucketName, string>;
  /** Base URL the app is reached at (local signed URLs, image URLs without a CDN). */
  publicBaseUrl: string;
  cdnBaseUrl?: string;
  /** HMAC key of the local driver's signed URLs; generated into the data directory if unset. */
  signingSecret?: string;
  uploadMaxBytes: number;
  imageMaxBytes: number;
  /** First renders of image renditions running at once (CPU-bound). */
  imageRenderConcurrency: number;
}

export interface AppConfig {
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
  };
  log: { level: (typeof LOG_LEVELS)[number] };
  dataDir: string;
  database: DatabaseConfig;
  readReplicaUrl?: string;
  /** The separate server `backup verify` restores onto (same port, credentials and TLS as the primary). */
  backupVerifyHost?: string;
  /** Who `backup verify` connects to that server as (it creates and drops a scratch database); default the primary's user. */
  backupVerifyLogin?: { user: string; password: string };
  /** `db roles`: the login users it creates for the app and the migrations (src/platform/db/roles.ts). */
  databaseRoles?: { app: { user: string; password: string }; migrate: { user: string; password: string } };
  pool: PoolSettings;
  /** `migrate up/down`: how long a migration waits for a lock (its statements have no limit). */
  migrationLockTimeoutMillis: number;
  seed: { demoProducts: number };
  rateLimit: { enabled: boolean; perMinute: number; adminPerMinute: number };
  /** scrypt cost of new password hashes, as log2(N). */
  passwordHashCost: number;
  /** Account registrations one client address may attempt per hour (taken or not). */
  registrationsPerAddressPerHour: number;
  /** Guest sessions one address may create per hour (0: no cap), and the in-process store's bound. */
  sessions: { guestsPerAddressPerHour: number; memoryMax: number };
  /** Failed-login limits (always on, also with RATE_LIMIT_ENABLED=false). */
  login: { perAddressPerDay: number; consecutivePerAccount: number; perAccountPerHour: number };
  cache: {
    ttlSeconds: number;
    negativeTtlSeconds: number;
    listingTtlSeconds: number;
    /** The in-process near cache in front of Redis (product pages); 0 entries: off. */
    near: { maxEntries: number; ttlSeconds: number };
    /** Search answers and suggestions held in process, emptied everywhere on index writes; 0: off. */
    search: { maxEntries: number; ttlSeconds: number };
  };
  /** Absent: the in-process adapters (single node). */
  redis?:
    { url: string } | { clusterNodes: { host: string; port: number }[]; tls?: boolean; password?: string };
  redisCommandTimeoutMs: number;
  /** Put before every Redis key and pub/sub channel: several apps or environments share one Redis. */
  redisKeyPrefix: string;
  /** Where sessions live: Redis when configured, else in-process (or PostgreSQL, on request). */
  sessionStore: 'redis' | 'postgres' | 'memory';
  /** Absent: events are dispatched in-process from the outbox. */
  amqpUrl?: string;
  search: { engine: 'postgres' | 'opensearch'; url?: string; index: string };
  storage: StorageConfig;
  /** The `environment` dimension of the metrics published to CloudWatch. */
  metricsEnvironment: string;
  /** The store's time zone (IANA): where the console's "today" starts and how it shows dates. */
  storeTimeZone: string;
  /** `production` turns the embedded and test-only defaults into startup errors. */
  production: boolean;
  /**
   * Who charges customers. `test` (deterministic, no money moves) is the default only in the
   * embedded zero-config mode; `none` refuses payments (503) until a provider is configured.
   */
  payments: PaymentsConfig;
  /** Limits of the stock WebSocket, per process. */
  websocket: { maxConnectionsPerAddress: number; maxMessagesPerSecond: number };
  /** Unpaid orders: how long they hold stock, and how many one caller may hold at once. */
  pendingOrders: { ttlMinutes: number; perSession: number; perAddress: number };
  /** When each job runs (cron, UTC; null: only when started by hand), and what jobs keep. */
  jobs: {
    schedules: Readonly<Record<JobName, string | null>>;
    /** How often a worker checks which schedules are due (each check costs CPU). */
    scheduleCheckSeconds: number;
    outboxRetentionDays: number;
  };
  /** How long data is kept before the retention jobs delete it, in days. */
  retention: {
    guestCartDays: number;
    failedPaymentDays: number;
    jobRunDays: number;
    auditDays: number;
    archiveOrdersAfterDays: number;
    backupDays: number;
    /** Backups kept whatever their age: the newest this many. */
    backupCount: number;
  };
  /** Where pg_dump and pg_restore of PostgreSQL 15 are, when not on the PATH. */
  pgBinDir?: string;
  /** The PATH external tools (pg_dump, pg_restore) are looked for on. */
  toolPath: string;
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

/**
 * `url` with a user name and password put in (from their own variables: secrets stores hand them
 * out separately from the endpoint); unchanged when they are not set.
 */
function withCredentials(url: string, username?: string, password?: string): string {
  if (!username && !password) return url;
  const u = new URL(url);
  if (username) u.username = encodeURIComponent(username);
  if (password) u.password = encodeURIComponent(password);
  return u.toString();
}

/** The connection URL of DB_HOST and its companions, TLS settings as libpq parameters. */
function postgresUrlOf(e: {
  DB_HOST?: string | undefined;
  DB_PORT: number;
  DB_NAME: string;
  DB_USER: string;
  DB_PASSWORD?: string | undefined;
  DB_SSL_MODE?: string | undefined;
  DB_SSL_ROOT_CERT?: string | undefined;
}): string {
  const u = new URL(`postgres://${e.DB_HOST}:${e.DB_PORT}/${encodeURIComponent(e.DB_NAME)}`);
  u.username = encodeURIComponent(e.DB_USER);
  if (e.DB_PASSWORD) u.password = encodeURIComponent(e.DB_PASSWORD);
  if (e.DB_SSL_MODE) u.searchParams.set('sslmode', e.DB_SSL_MODE);
  if (e.DB_SSL_ROOT_CERT) u.searchParams.set('sslrootcert', e.DB_SSL_ROOT_CERT);
  return u.toString();
}

/**
 * Tracing's settings, read before the rest of the configuration (and before the traced libraries
 * load): OTEL_EXPORTER_OTLP_ENDPOINT (an OTLP/HTTP collector; unset: no tracing) and
 * OTEL_SERVICE_NAME (default shopflow-<SHOPFLOW_ROLE>).
 */
export function telemetryConfig(env: Env = process.env): { endpoint?: string; serviceName: string } {
  const endpoint = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim();
  if (endpoint && !/^https?:\/\/[^/]+/.test(endpoint))
    throw new ConfigError([`OTEL_EXPORTER_OTLP_ENDPOINT: not an http(s) URL: ${endpoint}`]);
  return {
    ...(endpoint ? { endpoint } : {}),
    serviceName: env.OTEL_SERVICE_NAME?.trim() || `shopflow-${env.SHOPFLOW_ROLE ?? 'all'}`,
  };
}

/** Parses `env` (default: the process environment) into a frozen {@link AppConfig}. */
export function loadConfig(env: Env = process.env, overrides: Env = {}): AppConfig {
  const source: Env = {};
  // Empty strings count as unset, as in most twelve-factor tooling.
  for (const [k, v] of Object.entries({ ...env, ...overrides }))
    if (v !== undefined && v !== '') source[k] = v;

  const parsed = EnvSchema.safeParse(source);
  if (!parsed.success) {
    throw new ConfigError(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`));
  }
  const e = parsed.data;
  if (e.REDIS_URL && e.REDIS_CLUSTER_NODES) {
    throw new ConfigError(['REDIS_URL and REDIS_CLUSTER_NODES are both set: choose one']);
  }
  if (e.SESSION_STORE === 'redis' && !e.REDIS_URL && !e.REDIS_CLUSTER_NODES) {
    throw new ConfigError(['SESSION_STORE=redis needs REDIS_URL or REDIS_CLUSTER_NODES']);
  }
  if (e.SEARCH_ENGINE !== 'postgres' && !e.OPENSEARCH_URL) {
    throw new ConfigError([`SEARCH_ENGINE=${e.SEARCH_ENGINE} needs OPENSEARCH_URL`]);
  }
  if (Boolean(e.S3_REPLICATION_ROLE_ARN) !== Boolean(e.S3_REPLICA_BUCKET_SUFFIX)) {
    throw new ConfigError([
      'S3_REPLICATION_ROLE_ARN and S3_REPLICA_BUCKET_SUFFIX go together: set both or neither',
    ]);
  }
  if (e.DATABASE_URL && e.DB_HOST) {
    throw new ConfigError(['DATABASE_URL and DB_HOST are both set: choose one']);
  }
  const dataDir = path.resolve(e.SHOPFLOW_DATA_DIR);
  const production = e.NODE_ENV === 'production';
  const embedded = !e.DATABASE_URL && !e.DB_HOST;
  // The test provider confirms any order without money: never by default next to a real
  // database, never in production.
  const paymentProvider = e.PAYMENT_PROVIDER ?? (embedded && !production ? 'test' : 'none');
  if (production) {
    // Production refuses every embedded default: each keeps state on one machine or moves no money.
    const refused: string[] = [];
    if (paymentProvider === 'test')
      refused.push(
        'PAYMENT_PROVIDER=test confirms orders without payment and is refused with NODE_ENV=production',
      );
    if (embedded)
      refused.push(
        'NODE_ENV=production needs DATABASE_URL (or DB_HOST): the embedded PostgreSQL keeps the data on this machine only',
      );
    if (!e.AMQP_URL)
      refused.push(
        'NODE_ENV=production needs AMQP_URL: the in-process event bus delivers events inside one process only',
      );
    if ((e.STORAGE_DRIVER ?? (e.S3_ENDPOINT || e.S3_REGION ? 's3' : 'local')) === 'local')
      refused.push(
        'NODE_ENV=production needs S3 (S3_REGION, or S3_ENDPOINT for an S3-compatible store): the local object store keeps files on this machine only',
      );
    if ((e.SESSION_STORE ?? (e.REDIS_URL || e.REDIS_CLUSTER_NODES ? 'redis' : 'memory')) === 'memory')
      refused.push(
        'NODE_ENV=production needs REDIS_URL (or SESSION_STORE=postgres): in-memory sessions live in one process only',
      );
    if (refused.length > 0) throw new ConfigError(refused);
  }
  if (paymentProvider === 'stripe' && (!e.STRIPE_SECRET_KEY || !e.STRIPE_WEBHOOK_SECRET)) {
    throw new ConfigError([
      'PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (the endpoint secret of /webhooks/stripe)',
    ]);
  }
  if (production && e.STRIPE_SECRET_KEY?.includes('_test_')) {
    throw new ConfigError([
      'STRIPE_SECRET_KEY is a test-mode key: no money moves; refused with NODE_ENV=production',
    ]);
  }
  const stripeApi =
    e.STRIPE_API_HOST || e.STRIPE_API_PORT || e.STRIPE_API_PROTOCOL
      ? {
          ...(e.STRIPE_API_HOST ? { host: e.STRIPE_API_HOST } : {}),
          ...(e.STRIPE_API_PORT ? { port: e.STRIPE_API_PORT } : {}),
          ...(e.STRIPE_API_PROTOCOL ? { protocol: e.STRIPE_API_PROTOCOL } : {}),
        }
      : undefined;

  let database: DatabaseConfig;
  if (e.DATABASE_URL) {
    database = {
      mode: 'external',
      connectionString: e.DATABASE_URL,
      port: e.DB_PORT,
      database: e.DB_NAME,
      user: e.DB_USER,
    };
  } else if (e.DB_HOST) {
    database = {
      mode: 'external',
      host: e.DB_HOST,
      port: e.DB_PORT,
      database: e.DB_NAME,
      user: e.DB_USER,
      ...(e.DB_PASSWORD !== undefined ? { password: e.DB_PASSWORD } : {}),
      ...(e.DB_SSL_MODE ? { sslMode: e.DB_SSL_MODE } : {}),
      ...(e.DB_SSL_ROOT_CERT ? { sslRootCert: e.DB_SSL_ROOT_CERT } : {}),
    };
  } else {
    database = {
      mode: 'embedded',
      dataDir: path.join(dataDir, 'pg'),
      port: e.EMBEDDED_PG_PORT,
      database: 'shopflow',
    };
  }

  const config: AppConfig = {
    role: e.SHOPFLOW_ROLE,
    http: {
      host: e.HOST,
      port: e.PORT,
      bodyLimit: e.BODY_LIMIT_BYTES,
      shutdownGraceMs: e.SHUTDOWN_GRACE_MS,
      // Secure unless the server only listens on this machine (plain-HTTP local development).
      ...(e.METRICS_TOKEN ? { metricsToken: e.METRICS_TOKEN } : {}),
      secureCookie: e.COOKIE_SECURE ?? !['127.0.0.1', '::1', 'localhost'].includes(e.HOST),
      trustProxy:
        e.TRUST_PROXY === undefined || e.TRUST_PROXY === 'false'
          ? false
          : /^\d+$/.test(e.TRUST_PROXY)
            ? Number(e.TRUST_PROXY)
            : e.TRUST_PROXY.split(',').map((p) => p.trim()),
    },
    production,
    payments: {
      provider: paymentProvider,
      methods: [...new Set(e.PAYMENT_METHODS.split(','))] as PaymentMethod[],
      pixExpiryMinutes: e.PIX_EXPIRY_MINUTES,
      boletoExpiryDays: e.BOLETO_EXPIRY_DAYS,
      boletoClearingDays: e.BOLETO_CLEARING_DAYS,
      reconcileAfterMinutes: e.PAYMENT_RECONCILE_AFTER_MINUTES,
      ...(paymentProvider === 'stripe'
        ? {
            stripe: {
              secretKey: e.STRIPE_SECRET_KEY!,
              webhookSecret: e.STRIPE_WEBHOOK_SECRET!,
              webhookToleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
              ...(stripeApi ? { api: stripeApi } : {}),
            },
          }
        : {}),
    },
    websocket: {
      maxConnectionsPerAddress: e.WS_MAX_CONNECTIONS_PER_ADDRESS,
      maxMessagesPerSecond: e.WS_MAX_MESSAGES_PER_SECOND,
    },
    pendingOrders: {
      ttlMinutes: e.PENDING_ORDER_TTL_MINUTES,
      perSession: e.MAX_PENDING_ORDERS_PER_SESSION,
      perAddress: e.MAX_PENDING_ORDERS_PER_ADDRESS,
    },
    jobs: {
      schedules: Object.fromEntries(
        Object.keys(JOB_SCHEDULES).map((job) => {
          const cron = (e as Record<string, unknown>)[cronVariable(job)] as string;
          return [job, cron === 'off' ? null : cron];
        }),
      ) as Record<JobName, string | null>,
      scheduleCheckSeconds: e.JOB_SCHEDULE_CHECK_SECONDS,
      outboxRetentionDays: e.OUTBOX_RETENTION_DAYS,
    },
    retention: {
      guestCartDays: e.CART_RETENTION_DAYS,
      failedPaymentDays: e.FAILED_PAYMENT_RETENTION_DAYS,
      jobRunDays: e.JOB_RUN_RETENTION_DAYS,
      auditDays: e.AUDIT_RETENTION_DAYS,
      archiveOrdersAfterDays: e.ARCHIVE_ORDERS_AFTER_DAYS,
      backupDays: e.BACKUP_RETENTION_DAYS,
      backupCount: e.BACKUP_RETENTION_COUNT,
    },
    ...(e.PG_BIN_DIR ? { pgBinDir: e.PG_BIN_DIR } : {}),
    toolPath: e.PATH,
    metricsEnvironment: e.METRICS_ENVIRONMENT,
    storeTimeZone: e.STORE_TIME_ZONE,
    log: { level: e.LOG_LEVEL },
    dataDir,
    database,
    ...(e.DATABASE_READ_URL
      ? { readReplicaUrl: e.DATABASE_READ_URL }
      : e.DB_HOST && e.DB_READ_HOST
        ? // A replica reached with the primary's credentials and TLS settings (a managed read replica).
          { readReplicaUrl: postgresUrlOf({ ...e, DB_HOST: e.DB_READ_HOST }) }
        : {}),
    pool: {
      max: e.DB_POOL_MAX,
      idleTimeoutMillis: e.DB_IDLE_TIMEOUT_MS,
      connectionTimeoutMillis: e.DB_CONNECTION_TIMEOUT_MS,
      statementTimeoutMillis: e.DB_STATEMENT_TIMEOUT_MS,
    },
    migrationLockTimeoutMillis: e.MIGRATION_LOCK_TIMEOUT_MS,
    ...(e.BACKUP_VERIFY_DB_HOST ? { backupVerifyHost: e.BACKUP_VERIFY_DB_HOST } : {}),
    ...(e.BACKUP_VERIFY_DB_USER && e.BACKUP_VERIFY_DB_PASSWORD
      ? { backupVerifyLogin: { user: e.BACKUP_VERIFY_DB_USER, password: e.BACKUP_VERIFY_DB_PASSWORD } }
      : {}),
    ...(e.DB_APP_USER && e.DB_APP_PASSWORD && e.DB_MIGRATE_USER && e.DB_MIGRATE_PASSWORD
      ? {
          databaseRoles: {
            app: { user: e.DB_APP_USER, password: e.DB_APP_PASSWORD },
            migrate: { user: e.DB_MIGRATE_USER, password: e.DB_MIGRATE_PASSWORD },
          },
        }
      : {}),
    seed: { demoProducts: e.SEED_DEMO_PRODUCTS },
    passwordHashCost: e.PASSWORD_HASH_COST,
    registrationsPerAddressPerHour: e.REGISTRATIONS_PER_ADDRESS_PER_HOUR,
    sessions: {
      guestsPerAddressPerHour: e.GUEST_SESSIONS_PER_ADDRESS_PER_HOUR,
      memoryMax: e.MEMORY_SESSIONS_MAX,
    },
    login: {
      perAddressPerDay: e.LOGIN_FAILS_PER_ADDRESS_PER_DAY,
      consecutivePerAccount: e.LOGIN_CONSECUTIVE_FAILS,
      perAccountPerHour: e.LOGIN_FAILS_PER_ACCOUNT_PER_HOUR,
    },
    rateLimit: {
      enabled: e.RATE_LIMIT_ENABLED,
      perMinute: e.RATE_LIMIT_PER_MINUTE,
      adminPerMinute: e.ADMIN_RATE_LIMIT_PER_MINUTE,
    },
    cache: {
      ttlSeconds: e.CACHE_TTL_SECONDS,
      negativeTtlSeconds: e.CACHE_NEGATIVE_TTL_SECONDS,
      listingTtlSeconds: e.LISTING_CACHE_TTL_SECONDS,
      near: { maxEntries: e.CACHE_NEAR_MAX_ENTRIES, ttlSeconds: e.CACHE_NEAR_TTL_SECONDS },
      search: { maxEntries: e.SEARCH_CACHE_MAX_ENTRIES, ttlSeconds: e.SEARCH_CACHE_TTL_SECONDS },
    },
    ...(e.REDIS_CLUSTER_NODES
      ? {
          redis: {
            clusterNodes: e.REDIS_CLUSTER_NODES.split(',').map((n) => {
              const [host, port] = n.trim().split(':');
              return { host: host!, port: Number(port) };
            }),
            ...(e.REDIS_TLS ? { tls: true } : {}),
            ...(e.REDIS_PASSWORD ? { password: e.REDIS_PASSWORD } : {}),
          },
        }
      : e.REDIS_URL
        ? { redis: { url: e.REDIS_URL } }
        : {}),
    redisCommandTimeoutMs: e.REDIS_COMMAND_TIMEOUT_MS,
    redisKeyPrefix: e.REDIS_KEY_PREFIX ?? '',
    ...(e.AMQP_URL ? { amqpUrl: withCredentials(e.AMQP_URL, e.AMQP_USERNAME, e.AMQP_PASSWORD) } : {}),
    search: {
      engine: e.SEARCH_ENGINE === 'postgres' ? 'postgres' : 'opensearch',
      ...(e.OPENSEARCH_URL
        ? { url: withCredentials(e.OPENSEARCH_URL, e.OPENSEARCH_USERNAME, e.OPENSEARCH_PASSWORD) }
        : {}),
      index: e.SEARCH_INDEX,
    },
    storage: {
      driver: e.STORAGE_DRIVER ?? (e.S3_ENDPOINT || e.S3_REGION ? 's3' : 'local'),
      dir: path.join(dataDir, 'storage'),
      s3: {
        ...(e.S3_ENDPOINT ? { endpoint: e.S3_ENDPOINT } : {}),
        region: e.S3_REGION ?? 'us-east-1',
        forcePathStyle: e.S3_FORCE_PATH_STYLE,
        ...(e.S3_REPLICATION_ROLE_ARN && e.S3_REPLICA_BUCKET_SUFFIX
          ? { replication: { roleArn: e.S3_REPLICATION_ROLE_ARN, bucketSuffix: e.S3_REPLICA_BUCKET_SUFFIX } }
          : {}),
      },
      buckets: {
        productImages: e.S3_BUCKET_PRODUCT_IMAGES,
        userUploads: e.S3_BUCKET_USER_UPLOADS,
        invoices: e.S3_BUCKET_INVOICES,
        archive: e.S3_BUCKET_ARCHIVE,
        backups: e.S3_BUCKET_BACKUPS,
      },
      publicBaseUrl: (
        e.PUBLIC_BASE_URL ?? `http://${e.HOST === '0.0.0.0' ? '127.0.0.1' : e.HOST}:${e.PORT}`
      ).replace(/\/$/, ''),
      ...(e.CDN_BASE_URL ? { cdnBaseUrl: e.CDN_BASE_URL.replace(/\/$/, '') } : {}),
      ...(e.STORAGE_SIGNING_SECRET ? { signingSecret: e.STORAGE_SIGNING_SECRET } : {}),
      uploadMaxBytes: e.UPLOAD_MAX_BYTES,
      imageMaxBytes: e.IMAGE_MAX_BYTES,
      imageRenderConcurrency: e.IMAGE_RENDER_CONCURRENCY,
    },
    sessionStore: e.SESSION_STORE ?? (e.REDIS_URL || e.REDIS_CLUSTER_NODES ? 'redis' : 'memory'),
  };
  return deepFreeze(config);
}

/** Whether progress may be drawn in place (a terminal, and not CI). */
export function isTty(): boolean {
  return process.stdout.isTTY === true && process.env.CI !== 'true';
}

function deepFreeze<T>(o: T): T {
  if (o && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}
