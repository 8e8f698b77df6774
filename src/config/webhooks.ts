/** Outgoing webhooks: who may be called, how long a call may take, how long deliveries are retried and kept. */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { bool, ConfigError, int, type EnvOf } from './kit.ts';

export const webhooksEnv = {
  /** `true`: http:// URLs and private, loopback and link-local addresses are allowed (development, tests). */
  WEBHOOK_ALLOW_INSECURE_URLS: bool.default(false),
  /**
   * At least 32 characters of secret (e.g. `openssl rand -base64 32`): the signing secrets at rest
   * are encrypted under its SHA-256. Without it in production, webhooks answer 503.
   */
  WEBHOOK_SECRETS_KEY: z.string().min(32).max(1024).optional(),
  WEBHOOK_TIMEOUT_MS: int(100, 120_000).default(10_000),
  WEBHOOK_RESPONSE_MAX_BYTES: int(0, 65_536).default(1024),
  WEBHOOK_RETRY_HOURS: int(1, 24 * 30).default(72),
  WEBHOOK_RETRY_BASE_MS: int(10, 3_600_000).default(30_000),
  WEBHOOK_DISABLE_AFTER_DAYS: int(1, 365).default(5),
  WEBHOOK_CONCURRENCY: int(1, 1000).default(32),
  WEBHOOK_CONCURRENCY_PER_ENDPOINT: int(1, 100).default(4),
  WEBHOOK_DELIVERY_RETENTION_DAYS: int(1, 3650).default(30),
  WEBHOOK_TESTS_PER_MINUTE: int(1, 10_000).default(10),
};

export interface WebhooksSection {
  webhooks: {
    allowInsecureUrls: boolean;
    /** The AES-256 key of the signing secrets at rest, base64 (32 bytes); null: webhooks unavailable. */
    secretsKey: string | null;
    timeoutMs: number;
    /** The first bytes of an answer kept for the delivery log; the rest is not read. */
    responseMaxBytes: number;
    /** A delivery still failing this long after it was created is given up (failed). */
    retryHours: number;
    /** The first retry's delay; each next one doubles (capped at 6 h), with jitter. */
    retryBaseMs: number;
    /** An endpoint whose every attempt failed for this long is disabled. */
    disableAfterDays: number;
    /** Requests in flight at once per worker, and per endpoint. */
    concurrency: number;
    concurrencyPerEndpoint: number;
    deliveryRetentionDays: number;
    /** Test events (POST /admin/webhooks/:id/test) one admin key may queue per minute. */
    testsPerMinute: number;
  };
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('base64');

export function webhooksConfig(
  e: EnvOf<typeof webhooksEnv>,
  where: { production: boolean; dataDir: string },
): WebhooksSection {
  if (where.production && e.WEBHOOK_ALLOW_INSECURE_URLS)
    throw new ConfigError([
      'WEBHOOK_ALLOW_INSECURE_URLS=true lets webhooks reach internal addresses and is refused with NODE_ENV=production',
    ]);
  if (e.WEBHOOK_CONCURRENCY_PER_ENDPOINT >= e.WEBHOOK_CONCURRENCY)
    throw new ConfigError([
      'WEBHOOK_CONCURRENCY_PER_ENDPOINT must be below WEBHOOK_CONCURRENCY, so one endpoint never takes every slot',
    ]);
  return {
    webhooks: {
      allowInsecureUrls: e.WEBHOOK_ALLOW_INSECURE_URLS,
      // Outside production an unset key is derived from the data directory: stable across
      // restarts of one local install. Production without one has no key: webhooks answer 503.
      secretsKey: e.WEBHOOK_SECRETS_KEY
        ? sha256(`shopflow-webhook-secrets:${e.WEBHOOK_SECRETS_KEY}`)
        : where.production
          ? null
          : sha256(`shopflow-dev-webhook-secrets:${where.dataDir}`),
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      responseMaxBytes: e.WEBHOOK_RESPONSE_MAX_BYTES,
      retryHours: e.WEBHOOK_RETRY_HOURS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      disableAfterDays: e.WEBHOOK_DISABLE_AFTER_DAYS,
      concurrency: e.WEBHOOK_CONCURRENCY,
      concurrencyPerEndpoint: e.WEBHOOK_CONCURRENCY_PER_ENDPOINT,
      deliveryRetentionDays: e.WEBHOOK_DELIVERY_RETENTION_DAYS,
      testsPerMinute: e.WEBHOOK_TESTS_PER_MINUTE,
    },
  };
}
