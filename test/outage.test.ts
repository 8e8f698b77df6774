import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildServer } from '../src/http/server.ts';
import { createDatabase, createPool } from '../src/platform/db/pool.ts';
import { createMetrics } from '../src/platform/metrics.ts';
import { createLogger } from '../src/platform/logger.ts';
import { AdminKeysService } from '../src/modules/admin-keys/admin-keys.service.ts';
import { CatalogService } from '../src/modules/catalog/catalog.service.ts';
import { freePort } from './ports.ts';

// The same server wired to a database that is not there (a closed port): a clear 503, not a 500.
describe('database outage', () => {
  let server: FastifyInstance;
  let close: () => Promise<void>;
  beforeAll(async () => {
    const pool = createPool(
      { connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/none` },
      { max: 2, idleTimeoutMillis: 1000, connectionTimeoutMillis: 500, statementTimeoutMillis: 1000 },
    );
    const db = createDatabase(pool);
    server = await buildServer({
      logger: createLogger('silent'),
      bodyLimit: 1_048_576,
      metrics: createMetrics(),
      healthChecks: [{ name: 'database', required: true, check: () => pool.query('SELECT 1') }],
      services: { adminKeys: new AdminKeysService({ db }), catalog: new CatalogService({ db }) },
      version: 'test',
    });
    close = async () => {
      await server.close();
      await db.close();
    };
  });
  afterAll(async () => close?.());

  it('keeps /health/live up, reports not ready, and answers 503 dependency_unavailable', async () => {
    expect((await server.inject('/health/live')).statusCode).toBe(200);
    const ready = await server.inject('/health/ready');
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toMatchObject({ status: 'down', dependencies: { database: { status: 'down' } } });

    const res = await server.inject('/store/products');
    expect(res.statusCode).toBe(503);
    expect(res.headers['retry-after']).toBeDefined();
    expect(res.json()).toMatchObject({
      error: { code: 'dependency_unavailable', details: { dependency: 'database' } },
    });
  });
});
