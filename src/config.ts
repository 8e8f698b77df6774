/**
 * Typed configuration, parsed once from the environment.
 *
 * This is the only module that reads `process.env`. Each section (src/config/<section>.ts) owns
 * its variables (a Zod shape), its part of {@link AppConfig} and the mapper between them; this
 * file joins them. Every invalid variable is reported at once (a {@link ConfigError} lists them
 * all), and the result is deeply frozen.
 */
import { z } from 'zod';
import { ConfigError, type Env } from './config/kit.ts';
import { serverConfig, serverEnv, type ServerConfig } from './config/server.ts';
import { databaseConfig, databaseEnv, isEmbedded, type DatabaseSection } from './config/database.ts';
import { cacheConfig, cacheEnv, sessionStoreOf, type CacheSection } from './config/cache.ts';
import { limitsConfig, limitsEnv, type LimitsSection } from './config/limits.ts';
import { messagingConfig, messagingEnv, type MessagingSection } from './config/messaging.ts';
import { storageConfig, storageDriverOf, storageEnv, type StorageConfig } from './config/storage.ts';
import { paymentProviderOf, paymentsConfig, paymentsEnv, type PaymentsConfig } from './config/payments.ts';
import { badCronVariables, jobsConfig, jobsEnv, type JobsSection } from './config/jobs.ts';
import { shippingConfig, shippingEnv, type ShippingSection } from './config/shipping.ts';
import { webhooksConfig, webhooksEnv, type WebhooksSection } from './config/webhooks.ts';

export { ConfigError } from './config/kit.ts';
export { telemetryConfig } from './config/telemetry.ts';
export type { DatabaseConfig } from './config/database.ts';
export type { PaymentMethod, PaymentsConfig } from './config/payments.ts';
export type { StorageConfig } from './config/storage.ts';
export type { BucketName } from './platform/storage/object-store.ts';
export type { PoolSettings } from './platform/db/pool.ts';

const EnvSchema = z.object({
  ...serverEnv,
  ...databaseEnv,
  ...cacheEnv,
  ...limitsEnv,
  ...messagingEnv,
  ...storageEnv,
  ...paymentsEnv,
  ...jobsEnv,
  ...shippingEnv,
  ...webhooksEnv,
});
type ParsedEnv = z.infer<typeof EnvSchema>;

export interface AppConfig
  extends
    ServerConfig,
    DatabaseSection,
    CacheSection,
    LimitsSection,
    MessagingSection,
    JobsSection,
    ShippingSection,
    WebhooksSection {
  storage: StorageConfig;
  /**
   * Who charges customers. `test` (deterministic, no money moves) is the default only in the
   * embedded zero-config mode; `none` refuses payments (503) until a provider is configured.
   */
  payments: PaymentsConfig;
}

/** Parses `env` (default: the process environment) into a frozen {@link AppConfig}. */
export function loadConfig(env: Env = process.env, overrides: Env = {}): AppConfig {
  const source: Env = {};
  // Empty strings count as unset, as in most twelve-factor tooling.
  for (const [k, v] of Object.entries({ ...env, ...overrides }))
    if (v !== undefined && v !== '') source[k] = v;

  const parsed = EnvSchema.safeParse(source);
  const badCron = badCronVariables(source);
  if (!parsed.success || badCron.length) {
    throw new ConfigError([
      ...(parsed.error?.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`) ?? []),
      ...badCron,
    ]);
  }
  const e = parsed.data;
  const server = serverConfig(e);
  const cache = cacheConfig(e);
  const messaging = messagingConfig(e);
  const storage = storageConfig(e, {
    dataDir: server.dataDir,
    host: e.HOST,
    port: e.PORT,
    production: server.production,
  });
  const database = databaseConfig(e, server.dataDir);
  const where = { embedded: isEmbedded(e), production: server.production };
  if (where.production) refuseEmbeddedDefaults(e, where);
  const config: AppConfig = {
    ...server,
    ...database,
    ...cache,
    ...limitsConfig(e),
    ...messaging,
    ...storage,
    ...paymentsConfig(e, where),
    ...jobsConfig(e, source),
    ...shippingConfig(e),
    ...webhooksConfig(e, { production: server.production, dataDir: server.dataDir }),
  };
  return deepFreeze(config);
}

/** Production refuses every embedded default: each keeps state on one machine or moves no money. */
function refuseEmbeddedDefaults(e: ParsedEnv, where: { embedded: boolean; production: boolean }): void {
  const refused: string[] = [];
  if (paymentProviderOf(e, where) === 'test')
    refused.push(
      'PAYMENT_PROVIDER=test confirms orders without payment and is refused with NODE_ENV=production',
    );
  if (where.embedded)
    refused.push(
      'NODE_ENV=production needs DATABASE_URL (or DB_HOST): the embedded PostgreSQL keeps the data on this machine only',
    );
  if (!e.METRICS_TOKEN)
    refused.push(
      'NODE_ENV=production needs METRICS_TOKEN: without it /metrics (order rates, error counts) is open to anyone',
    );
  if (!e.AMQP_URL)
    refused.push(
      'NODE_ENV=production needs AMQP_URL: the in-process event bus delivers events inside one process only',
    );
  if (storageDriverOf(e) === 'local')
    refused.push(
      'NODE_ENV=production needs S3 (S3_REGION, or S3_ENDPOINT for an S3-compatible store): the local object store keeps files on this machine only',
    );
  if (sessionStoreOf(e) === 'memory')
    refused.push(
      'NODE_ENV=production needs REDIS_URL (or SESSION_STORE=postgres): in-memory sessions live in one process only',
    );
  if (refused.length > 0) throw new ConfigError(refused);
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
