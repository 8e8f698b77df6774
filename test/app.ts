/** Builds the real application (same composition root) on a test database. */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/platform/logger.ts';
import type { Resolver } from '../src/platform/net/public-address.ts';
import { createTestDatabase, type TestDatabase } from './db.ts';

export interface TestApp {
  app: App;
  server: FastifyInstance;
  db: TestDatabase;
  adminKey: string;
  /** The app's Redis key and channel prefix (each test app has its own, so parallel files never share keys). */
  redisPrefix: string;
  close(): Promise<void>;
}

export async function createTestApp(
  env: Record<string, string> = {},
  /** A logger to read what the app logged (test/helpers/log-sink.ts); silent by default. */
  options: { logger?: ReturnType<typeof createLogger>; webhookResolver?: Resolver } = {},
): Promise<TestApp> {
  const db = await createTestDatabase();
  // Each app its own data directory (local object storage among it): files never mix between tests.
  const dataDir = env.SHOPFLOW_DATA_DIR ?? (await mkdtemp(path.join(tmpdir(), 'shopflow-test-data-')));
  const redisPrefix = env.REDIS_KEY_PREFIX ?? `t${randomBytes(4).toString('hex')}:`;
  const config = loadConfig({
    DATABASE_URL: db.url,
    LOG_LEVEL: 'silent',
    DB_POOL_MAX: '10',
    SHOPFLOW_DATA_DIR: dataDir,
    REDIS_KEY_PREFIX: redisPrefix,
    // A configured database has no payment provider unless one is chosen: the tests choose the test one.
    PAYMENT_PROVIDER: 'test',
    // Tests place hundreds of orders (and thousands of units) from one address and session; the
    // per-holder caps and the line cap have their own attack tests (security/order-holds).
    MAX_PENDING_ORDERS_PER_ADDRESS: '0',
    MAX_PENDING_UNITS_PER_ADDRESS: '0',
    MAX_PENDING_UNITS_PER_SESSION: '0',
    MAX_UNITS_PER_LINE: '10000',
    // Many customers register from one address, and hashing at the production cost (2^17) would
    // add seconds to every file; both have their own attack test at real settings.
    REGISTRATIONS_PER_ADDRESS_PER_HOUR: '10000',
    PASSWORD_HASH_COST: '14',
    GUEST_SESSIONS_PER_ADDRESS_PER_HOUR: '0',
    // Every test request comes from one address.
    PROMOTION_CODES_PER_ADDRESS_PER_MINUTE: '10000000',
    // Backups run on their own schedule only where a test asks for them.
    CRON_BACKUP_CREATE: 'off',
    CRON_BACKUP_VERIFY: 'off',
    CRON_BACKUP_PRUNE: 'off',
    // Tests that wait for a scheduled job see it within seconds (production checks every 30 s).
    JOB_SCHEDULE_CHECK_SECONDS: '1',
    ...env,
  });
  const app = await createApp(config, {
    logger: options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'),
    ...(options.webhookResolver ? { webhookResolver: options.webhookResolver } : {}),
  });
  const server = await app.buildServer();
  await server.ready();
  const { key } = await app.services.adminKeys.create({ name: 'test', scopes: ['*'] });
  return {
    app,
    server,
    db,
    adminKey: key,
    redisPrefix,
    async close() {
      await server.close();
      await app.close();
      await db.drop();
      if (!env.SHOPFLOW_DATA_DIR) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
