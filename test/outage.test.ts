import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/platform/logger.ts';
import { freePort } from './ports.ts';

// The real application wired to a database that is not there (a closed port): 503, not 500.
describe('database outage', () => {
  let app: App;
  let server: FastifyInstance;
  beforeAll(async () => {
    const config = loadConfig({
      DATABASE_URL: `postgres://postgres@127.0.0.1:${await freePort()}/none`,
      DB_CONNECTION_TIMEOUT_MS: '500',
      LOG_LEVEL: 'silent',
    });
    app = await createApp(config, { logger: createLogger('silent') });
    server = await app.buildServer();
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
  });

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
