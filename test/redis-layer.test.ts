import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import WebSocket from 'ws';
import { createApp, type App } from '../src/app.ts';
import { loadConfig } from '../src/config.ts';
import { createLogger } from '../src/platform/logger.ts';
import { sessionIdOf } from '../src/platform/sessions/session-store.ts';
import { createTestApp, type TestApp } from './app.ts';
import { eventually } from './helpers/eventually.ts';
import { redisUnavailable, startLocalRedis, TEST_REDIS_URL, type LocalRedis } from './redis.ts';

const skip = await redisUnavailable();
if (skip) console.warn(`skipping the Redis layer suite: ${skip}`);

describe.skipIf(skip !== undefined)('Redis layer through the API', () => {
  let t: TestApp;
  let raw: Redis;
  beforeAll(async () => {
    t = await createTestApp({ REDIS_URL: TEST_REDIS_URL, RATE_LIMIT_PER_MINUTE: '1000' });
    raw = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    raw?.disconnect();
    await t?.close();
  });

  const admin = (method: 'POST' | 'PATCH' | 'DELETE' | 'PUT', url: string, payload?: object) =>
    t.server.inject({
      method,
      url,
      headers: { authorization: `Bearer ${t.adminKey}` },
      ...(payload ? { payload } : {}),
    });
  const hits = async () => {
    const m = (await t.server.inject('/metrics')).body;
    return Number(/shopflow_cache_requests_total\{cache="catalog",result="hit"\} (\d+)/.exec(m)?.[1] ?? 0);
  };

  it('serves the second read from Redis, not PostgreSQL; updates and deletes show at once', async () => {
    const id = (
      await admin('POST', '/admin/products', {
        name: 'Luminária Escandinava',
        basePrice: 18990,
        availableQuantity: 4,
      })
    ).json<{ id: string }>().id;
    expect((await t.server.inject(`/store/products/${id}`)).statusCode).toBe(200);
    const key = `${t.redisPrefix}product:{${id}}`;
    expect(await raw.exists(`product:{${id}}`)).toBe(0); // every key carries the app's prefix
    const ttl = await raw.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3600);

    // Change the row behind the application's back: a cached read cannot see it.
    await t.db.pool.query("UPDATE products SET name = 'changed in the database only' WHERE id = $1", [id]);
    const before = await hits();
    const second = await t.server.inject(`/store/products/${id}`);
    expect(second.json<{ name: string }>().name).toBe('Luminária Escandinava');
    expect(await hits()).toBe(before + 1);

    await admin('PATCH', `/admin/products/${id}`, { name: 'Luminária Escandinava Branca', basePrice: 15990 });
    expect((await t.server.inject(`/store/products/${id}`)).json()).toMatchObject({
      name: 'Luminária Escandinava Branca',
      basePrice: 15990,
    });

    await t.server.inject({
      method: 'POST',
      url: '/store/orders',
      payload: { items: [{ productId: id, quantity: 3 }] },
    });
    expect(
      (await t.server.inject(`/store/products/${id}`)).json<{ availableQuantity: number }>()
        .availableQuantity,
    ).toBe(1);

    expect((await admin('DELETE', `/admin/products/${id}`)).statusCode).toBe(204);
    expect((await t.server.inject(`/store/products/${id}`)).statusCode).toBe(404);
  });

  it('keeps one database load for a stampede of reads of a cold product', async () => {
    const id = (
      await admin('POST', '/admin/products', { name: 'Cafeteira Italiana', basePrice: 12990 })
    ).json<{ id: string }>().id;
    await raw.del(`${t.redisPrefix}product:{${id}}`);
    const misses = async () =>
      Number(
        /shopflow_cache_requests_total\{cache="catalog",result="miss"\} (\d+)/.exec(
          (await t.server.inject('/metrics')).body,
        )?.[1] ?? 0,
      );
    const before = await misses();
    const res = await Promise.all(
      Array.from({ length: 200 }, () => t.server.inject(`/store/products/${id}`)),
    );
    expect(res.every((r) => r.statusCode === 200)).toBe(true);
    expect((await misses()) - before).toBe(1);
  });

  it('keeps sessions in Redis: TTL near 7 days, grown back on activity, removed on logout', async () => {
    await t.server.inject({
      method: 'POST',
      url: '/store/customers',
      payload: { email: 'redis@example.com', password: 'senha-redis-1', name: 'R' },
    });
    const login = await t.server.inject({
      method: 'POST',
      url: '/store/auth/login',
      payload: { email: 'redis@example.com', password: 'senha-redis-1' },
    });
    const token = login.json<{ sessionToken: string }>().sessionToken;
    const key = `${t.redisPrefix}session:${sessionIdOf(token)}`;
    expect(await raw.ttl(key)).toBeGreaterThan(604_800 - 10);
    await raw.expire(key, 1000);
    expect(
      (await t.server.inject({ url: '/store/me', headers: { authorization: `Bearer ${token}` } })).statusCode,
    ).toBe(200);
    expect(await raw.ttl(key)).toBeGreaterThan(604_800 - 10);
    await t.server.inject({
      method: 'POST',
      url: '/store/auth/logout',
      headers: { authorization: `Bearer ${token}` },
    });
    expect(await raw.exists(key)).toBe(0);
  });

  it('reports Redis in readiness', async () => {
    expect((await t.server.inject('/health/ready')).json()).toMatchObject({
      status: 'ok',
      dependencies: { redis: { status: 'ok' } },
    });
  });
});

describe.skipIf(skip !== undefined)('rate limiting on Redis', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({
      REDIS_URL: TEST_REDIS_URL,
      RATE_LIMIT_PER_MINUTE: '3',
      ADMIN_RATE_LIMIT_PER_MINUTE: '5',
    });
  });
  afterAll(async () => t?.close());

  it('answers 429 with Retry-After past the limit, per caller; health is not counted', async () => {
    const from = (ip: string) => t.server.inject({ url: '/store/categories', remoteAddress: ip });
    const ip = `10.1.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`;
    const asAdmin = () =>
      t.server.inject({
        url: '/admin/api-keys',
        remoteAddress: ip,
        headers: { authorization: `Bearer ${t.adminKey}` },
      });
    expect((await asAdmin()).statusCode).toBe(200); // the key authenticates once
    const first = await from(ip);
    expect(first.headers['ratelimit-limit']).toBe('3');
    expect(first.headers['ratelimit-remaining']).toBe('2');
    await from(ip);
    await from(ip);
    const limited = await from(ip);
    expect(limited.statusCode).toBe(429);
    expect(limited.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect((await from(`${ip.split('.').slice(0, 3).join('.')}.251`)).statusCode).toBe(200);
    for (let i = 0; i < 5; i++)
      expect((await t.server.inject({ url: '/health/live', remoteAddress: ip })).statusCode).toBe(200);
    // An authenticated admin key has its own budget, whatever its address has used.
    expect((await asAdmin()).statusCode).toBe(200);
  });
});

describe.skipIf(skip !== undefined)('real-time stock across instances', () => {
  let a: App;
  let b: App;
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ REDIS_URL: TEST_REDIS_URL });
    a = t.app;
    b = await createApp(
      loadConfig({
        DATABASE_URL: t.db.url,
        REDIS_URL: TEST_REDIS_URL,
        REDIS_KEY_PREFIX: t.redisPrefix, // the same store: the two instances share keys and channels
        LOG_LEVEL: 'silent',
      }),
      { logger: createLogger('silent') },
    );
    base = await t.server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => {
    await b?.close();
    await t?.close();
  });

  it('pushes the new availableQuantity to a client on instance A when an order is placed on B', async () => {
    const product = await a.services.catalog.createProduct({
      name: 'Garrafa Squeeze',
      basePrice: 2990,
      availableQuantity: 8,
    });
    const ws = new WebSocket(`${base.replace('http', 'ws')}/store/ws`);
    const messages: {
      channel?: string;
      productId?: string;
      availableQuantity?: number;
      subscribed?: string[];
    }[] = [];
    ws.on('message', (d: Buffer) => messages.push(JSON.parse(d.toString()) as (typeof messages)[number]));
    await new Promise((r) => ws.once('open', r));
    ws.send(JSON.stringify({ subscribe: [`inventory:${product.id}`, 'inventory:nonsense'] }));
    await eventually(() => expect(messages.length).toBeGreaterThan(0), { timeoutMs: 1000 });
    expect(messages[0]).toMatchObject({
      subscribed: [`inventory:${product.id}`],
      rejected: { unknown_channel: 1 },
    });

    const serverB = await b.buildServer();
    const res = await serverB.inject({
      method: 'POST',
      url: '/store/orders',
      payload: { items: [{ productId: product.id, quantity: 3 }] },
    });
    expect(res.statusCode).toBe(201);
    const update = await eventually(
      () => {
        const found = messages.find((m) => m.channel === `inventory:${product.id}`);
        expect(found).toBeDefined();
        return found;
      },
      { timeoutMs: 1000, intervalMs: 10 },
    );
    expect(update).toEqual({
      channel: `inventory:${product.id}`,
      productId: product.id,
      availableQuantity: 5,
      // A one-variant product's variant has the product's id.
      variants: [{ variantId: product.id, availableQuantity: 5 }],
    });
    ws.close();
    await serverB.close();
  });

  it('drops a product page held in A’s memory within a second of a change made on B', async () => {
    const product = await a.services.catalog.createProduct({
      name: 'Cuia de Chimarrão',
      basePrice: 5990,
      availableQuantity: 9,
    });
    const read = async () =>
      (await t.server.inject(`/store/products/${product.id}`)).json<{
        name: string;
        availableQuantity: number;
      }>();
    expect(await read()).toMatchObject({ name: 'Cuia de Chimarrão', availableQuantity: 9 });
    expect(await read()).toMatchObject({ name: 'Cuia de Chimarrão' }); // now held near, in A

    // Within a second of the change, whichever instance made it.
    const shows = (want: Partial<Awaited<ReturnType<typeof read>>>) =>
      eventually(async () => expect(await read()).toMatchObject(want), { timeoutMs: 1000, intervalMs: 10 });
    await b.services.catalog.updateProduct(product.id, { name: 'Cuia de Chimarrão Gaúcha' });
    await shows({ name: 'Cuia de Chimarrão Gaúcha' });
    const serverB = await b.buildServer();
    await serverB.inject({
      method: 'POST',
      url: '/store/orders',
      payload: { items: [{ productId: product.id, quantity: 2 }] },
    });
    await shows({ availableQuantity: 7 });
    await serverB.close();
  });
});

describe.skipIf(skip !== undefined)('Redis outage', () => {
  let redis: LocalRedis;
  let t: TestApp;
  beforeAll(async () => {
    redis = await startLocalRedis();
    t = await createTestApp({ REDIS_URL: redis.url });
  });
  afterAll(async () => {
    await t?.close();
    await redis?.stop();
  });

  it('keeps product reads answering from PostgreSQL, then resumes caching by itself', async () => {
    const id = (
      await t.app.services.catalog.createProduct({
        name: 'Tapete Boho',
        basePrice: 25990,
        availableQuantity: 2,
      })
    ).id;
    expect((await t.server.inject(`/store/products/${id}`)).statusCode).toBe(200);

    await redis.stop();
    for (let i = 0; i < 5; i++) expect((await t.server.inject(`/store/products/${id}`)).statusCode).toBe(200);
    // A change while Redis is away is not lost: its invalidation waits for Redis to return.
    await t.server.inject({
      method: 'PATCH',
      url: `/admin/products/${id}`,
      headers: { authorization: `Bearer ${t.adminKey}` },
      payload: { basePrice: 19990 },
    });
    expect((await t.server.inject(`/store/products/${id}`)).json<{ basePrice: number }>().basePrice).toBe(
      19990,
    );
    const ready = (await t.server.inject('/health/ready')).json<{
      status: string;
      dependencies: { redis: { status: string } };
    }>();
    expect(ready).toMatchObject({ status: 'degraded', dependencies: { redis: { status: 'down' } } });
    // Sessions need Redis: a clear 503, not a hang or a 500.
    const login = await t.server.inject({ method: 'POST', url: '/store/carts' });
    expect(login.statusCode).toBe(503);
    expect(login.json()).toMatchObject({ error: { code: 'dependency_unavailable' } });

    await redis.start();
    const raw = new Redis(redis.url);
    // Once the client has reconnected, a read fills the cache again.
    await eventually(
      async () => {
        await t.server.inject(`/store/products/${id}`);
        expect(await raw.exists(`${t.redisPrefix}product:{${id}}`)).toBe(1);
      },
      { timeoutMs: 10_000, intervalMs: 100 },
    );
    expect((await t.server.inject(`/store/products/${id}`)).json<{ basePrice: number }>().basePrice).toBe(
      19990,
    );
    raw.disconnect();
  });
  it('still limits callers while Redis is away (each process counts on its own)', async () => {
    const limited = await createTestApp({ REDIS_URL: redis.url, RATE_LIMIT_PER_MINUTE: '3' });
    try {
      await redis.stop();
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++)
        statuses.push(
          (await limited.server.inject({ url: '/store/products?limit=1', remoteAddress: '203.0.113.77' }))
            .statusCode,
        );
      expect(statuses).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await redis.start();
      await limited.close();
    }
  });
});
