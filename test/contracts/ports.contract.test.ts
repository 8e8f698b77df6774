/**
 * One contract per port, run against every adapter: in-process, Redis, Redis Cluster (and
 * PostgreSQL for sessions). An adapter answers exactly like the others, or the suite fails.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { cacheKeys, type CacheStore } from '../../src/platform/cache/cache-store.ts';
import { MemoryCacheStore } from '../../src/platform/cache/memory.cache-store.ts';
import { RedisCacheStore } from '../../src/platform/cache/redis.cache-store.ts';
import { NearCacheStore } from '../../src/platform/cache/near.cache-store.ts';
import { BroadcastCache } from '../../src/platform/cache/broadcast-cache.ts';
import { LocalPubSub, RedisPubSub, type PubSub } from '../../src/platform/pubsub/pubsub.ts';
import { FlexibleRateLimiter } from '../../src/platform/ratelimit/rate-limiter.ts';
import {
  createRedis,
  duplicateForSubscribe,
  waitReady,
  type RedisClient,
  type RedisTarget,
} from '../../src/platform/redis/client.ts';
import { MemorySessionStore } from '../../src/platform/sessions/memory.session-store.ts';
import { RedisSessionStore } from '../../src/platform/sessions/redis.session-store.ts';
import { PostgresSessionStore } from '../../src/platform/sessions/postgres.session-store.ts';
import { sessionIdOf, type SessionStore } from '../../src/platform/sessions/session-store.ts';
import { createDatabase } from '../../src/platform/db/pool.ts';
import { createTestDatabase, type TestDatabase } from '../db.ts';
import {
  redisServerBinary,
  redisUnavailable,
  startLocalCluster,
  TEST_REDIS_URL,
  type LocalCluster,
} from '../redis.ts';

interface Adapters {
  cache: CacheStore;
  sessions: SessionStore;
  pubsub: PubSub;
  limiter: (limit: number) => FlexibleRateLimiter;
  /** Raw access for assertions on what is stored (TTL), when the adapter has a server. */
  redis?: RedisClient;
  /** The pub/sub connection, when the adapter has a server. */
  subscriber?: RedisClient;
  close(): Promise<void>;
}

const redisSkip = await redisUnavailable();
const clusterSkip = redisServerBinary() ? undefined : 'redis-server is not installed';
if (redisSkip) console.warn(`skipping the Redis contract suites: ${redisSkip}`);
if (clusterSkip) console.warn(`skipping the Redis Cluster contract suite: ${clusterSkip}`);

async function redisAdapters(
  target: RedisTarget,
  onClose: () => Promise<void> = () => Promise.resolve(),
  options: { near?: boolean } = {},
): Promise<Adapters> {
  const redis = createRedis(target, { commandTimeoutMs: 2000 });
  if (!(await waitReady(redis, 10_000))) throw new Error('test Redis not ready');
  const subscriber = duplicateForSubscribe(redis);
  const prefix = `test:${randomUUID()}`;
  const pubsub = new RedisPubSub(redis, subscriber);
  const shared = new RedisCacheStore(redis);
  const cache = options.near ? await startedNearCache(shared, pubsub) : shared;
  return {
    cache,
    sessions: new RedisSessionStore(redis),
    pubsub,
    subscriber,
    limiter: (limit) => new FlexibleRateLimiter(limit, { prefix: `${prefix}:${limit}`, redis }),
    redis,
    async close() {
      await subscriber.quit().catch(() => undefined);
      await redis.quit().catch(() => undefined);
      await onClose();
    },
  };
}

async function startedNearCache(shared: CacheStore, pubsub: PubSub): Promise<NearCacheStore> {
  const near = new NearCacheStore(shared, pubsub, {
    maxEntries: 1000,
    ttlMs: 60_000,
    holds: (key) => key.startsWith('product:'),
  });
  await near.start();
  await eventually(() => expect(pubsub.available()).toBe(true), { timeoutMs: 2000, intervalMs: 20 });
  return near;
}

const targets: { name: string; skip: string | undefined; make: () => Promise<Adapters> }[] = [
  {
    name: 'in-process',
    skip: undefined,
    make: () =>
      Promise.resolve({
        cache: new MemoryCacheStore(),
        sessions: new MemorySessionStore(),
        pubsub: new LocalPubSub(),
        limiter: (limit: number) => new FlexibleRateLimiter(limit, { prefix: `mem:${randomUUID()}` }),
        close: () => Promise.resolve(),
      }),
  },
  { name: 'Redis', skip: redisSkip, make: () => redisAdapters({ url: TEST_REDIS_URL }) },
  {
    name: 'Redis behind a near cache',
    skip: redisSkip,
    make: () => redisAdapters({ url: TEST_REDIS_URL }, undefined, { near: true }),
  },
  {
    name: 'Redis Cluster (3 masters)',
    skip: redisSkip ?? clusterSkip,
    make: async () => {
      const cluster: LocalCluster = await startLocalCluster();
      return redisAdapters({ clusterNodes: cluster.nodes }, () => cluster.stop());
    },
  },
];

for (const target of targets) {
  describe.skipIf(target.skip !== undefined)(`ports on ${target.name}`, () => {
    let a: Adapters;
    beforeAll(async () => {
      a = await target.make();
    }, 60_000);
    afterAll(async () => a?.close());

    describe('cache store', () => {
      it('stores with a TTL, guarded by the generation', async () => {
        const id = randomUUID();
        const [key, gen] = [cacheKeys.entry('product', id), cacheKeys.generation('product', id)];
        expect(await a.cache.get(key)).toBeUndefined();
        const g0 = await a.cache.generation(gen);
        expect(await a.cache.setIfGeneration(key, gen, g0, '{"v":1}', 3600)).toBe(true);
        expect(await a.cache.get(key)).toBe('{"v":1}');
        const ttl = await a.cache.ttl(key);
        expect(ttl).toBeGreaterThan(3590);
        expect(ttl).toBeLessThanOrEqual(3600);
      });

      it('makes a loader that read before an invalidation lose its write', async () => {
        const id = randomUUID();
        const [key, gen] = [cacheKeys.entry('product', id), cacheKeys.generation('product', id)];
        const before = await a.cache.generation(gen); // a loader starts...
        await a.cache.invalidate(key, gen); // ...an update commits and invalidates...
        expect(await a.cache.setIfGeneration(key, gen, before, '"stale"', 60)).toBe(false); // ...the loader loses
        expect(await a.cache.get(key)).toBeUndefined();
        await a.cache.writeThrough(key, gen, '"fresh"', 60);
        expect(await a.cache.get(key)).toBe('"fresh"');
        expect(await a.cache.setIfGeneration(key, gen, before, '"stale"', 60)).toBe(false);
      });

      it('invalidates every key of a tag, across hash slots, without KEYS', async () => {
        const tag = cacheKeys.tag(`t-${randomUUID()}`);
        const keys = Array.from({ length: 20 }, () => cacheKeys.entry('listing', randomUUID()));
        for (const k of keys) {
          await a.cache.setIfGeneration(k, `${k}:gen`, '0', 'x', 60);
          await a.cache.tag(tag, k, 60);
        }
        expect(await a.cache.invalidateTag(tag)).toBe(20);
        for (const k of keys) expect(await a.cache.get(k)).toBeUndefined();
        expect(await a.cache.invalidateTag(tag)).toBe(0);
      });
    });

    describe('session store', () => {
      it('creates, reads, slides and destroys sessions; stores no token', async () => {
        const customerId = randomUUID();
        const { token, session } = await a.sessions.create({ customerId });
        expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(session.id).toBe(sessionIdOf(token));
        expect(await a.sessions.get(token)).toMatchObject({ id: session.id, customerId });
        if (a.redis) {
          expect(await a.redis.get(`session:${token}`)).toBeNull();
          await a.redis.expire(`session:${session.id}`, 100);
          await a.sessions.get(token);
          expect(await a.redis.ttl(`session:${session.id}`)).toBeGreaterThan(604_800 - 5);
        }
        await a.sessions.destroy(token);
        expect(await a.sessions.get(token)).toBeUndefined();
        expect(await a.sessions.get('not-a-token')).toBeUndefined();
      });

      it('ends every session of a customer', async () => {
        const customerId = randomUUID();
        const s1 = await a.sessions.create({ customerId });
        const s2 = await a.sessions.create({ customerId });
        const other = await a.sessions.create({ customerId: null });
        const listed = await a.sessions.listForCustomer(customerId);
        expect(listed.map((l) => l.createdAt.getTime()).sort()).toEqual(
          [s1.session.createdAt.getTime(), s2.session.createdAt.getTime()].sort(),
        );
        expect(await a.sessions.destroyForCustomer(customerId)).toBe(2);
        expect(await a.sessions.listForCustomer(customerId)).toEqual([]);
        expect(await a.sessions.get(s1.token)).toBeUndefined();
        expect(await a.sessions.get(s2.token)).toBeUndefined();
        expect(await a.sessions.get(other.token)).toBeDefined();
      });
    });

    describe('rate limiter', () => {
      it('allows the limit, refuses the next with a reset time, and keeps keys apart', async () => {
        const limiter = a.limiter(3);
        const key = randomUUID();
        const decisions = [];
        for (let i = 0; i < 4; i++) decisions.push(await limiter.consume(key));
        expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
          [true, 2],
          [true, 1],
          [true, 0],
          [false, 0],
        ]);
        expect(decisions[3]!.resetSeconds).toBeGreaterThanOrEqual(1);
        expect(decisions[3]!.resetSeconds).toBeLessThanOrEqual(60);
        expect((await limiter.consume(randomUUID())).allowed).toBe(true);
      });

      it('is atomic under concurrency: exactly the limit passes', async () => {
        const limiter = a.limiter(25);
        const key = randomUUID();
        const results = await Promise.all(Array.from({ length: 60 }, () => limiter.consume(key)));
        expect(results.filter((d) => d.allowed)).toHaveLength(25);
      });
    });

    describe('pub/sub', () => {
      it('delivers published messages to subscribers until they unsubscribe', async () => {
        const channel = `test:${randomUUID()}`;
        const got: string[] = [];
        const off = await a.pubsub.subscribe(channel, (m) => got.push(m));
        await a.pubsub.publish(channel, 'one');
        await eventually(() => expect(got).toEqual(['one']), { timeoutMs: 1000, intervalMs: 20 });
        await off();
        await a.pubsub.publish(channel, 'two');
        // Nothing arrives after unsubscribing: a later message on another channel, subscribed
        // to on the same connection, arrives first (delivery is in order per connection).
        const marker = `test:${randomUUID()}`;
        const seen: string[] = [];
        const offMarker = await a.pubsub.subscribe(marker, (m) => seen.push(m));
        await a.pubsub.publish(marker, 'marker');
        await eventually(() => expect(seen).toEqual(['marker']), { timeoutMs: 1000, intervalMs: 20 });
        await offMarker();
        expect(got).toEqual(['one']);
      });
    });
  });
}

describe.skipIf(redisSkip !== undefined)('near cache in front of Redis, two instances', () => {
  // Two API processes, each with its own Redis connections, near cache and subscription.
  let one: Adapters;
  let two: Adapters;
  let nearOne: NearCacheStore;
  let raw: RedisCacheStore;
  beforeAll(async () => {
    one = await redisAdapters({ url: TEST_REDIS_URL }, undefined, { near: true });
    two = await redisAdapters({ url: TEST_REDIS_URL }, undefined, { near: true });
    nearOne = one.cache as NearCacheStore;
    raw = new RedisCacheStore(one.redis!);
  });
  afterAll(async () => {
    await one?.close();
    await two?.close();
  });
  const entry = () => {
    const id = randomUUID();
    return [cacheKeys.entry('product', id), cacheKeys.generation('product', id)] as const;
  };
  const soon = (check: () => Promise<boolean>) =>
    eventually(async () => expect(await check()).toBe(true), { timeoutMs: 1000, intervalMs: 10 });

  it('serves a product entry from process memory once read', async () => {
    const [key, gen] = entry();
    await raw.setIfGeneration(key, gen, '0', '"v1"', 60);
    expect(await one.cache.get(key)).toBe('"v1"');
    // Changed in Redis behind every instance's back: the near copy is what this process serves.
    await one.redis!.set(key, '"behind"');
    expect(await one.cache.get(key)).toBe('"v1"');
  });

  it('drops the near copy in every instance when any instance changes the entry', async () => {
    const [key, gen] = entry();
    await raw.setIfGeneration(key, gen, '0', '"v1"', 60);
    expect(await one.cache.get(key)).toBe('"v1"');
    expect(await two.cache.get(key)).toBe('"v1"');
    await two.cache.writeThrough(key, gen, '"v2"', 60);
    expect(await two.cache.get(key)).toBe('"v2"'); // at once where it changed
    await soon(async () => (await one.cache.get(key)) === '"v2"'); // within a message elsewhere
    await one.cache.invalidate(key, gen);
    expect(await one.cache.get(key)).toBeUndefined();
    await soon(async () => (await two.cache.get(key)) === undefined);
  });

  it('empties a broadcast-cleared results cache in every instance at once', async () => {
    const name = `t-${randomUUID()}`;
    const [c1, c2] = [one, two].map(
      (x) => new BroadcastCache<{ n: number }>(x.pubsub, { name, maxEntries: 10, ttlMs: 60_000 }),
    );
    await Promise.all([c1!.start(), c2!.start()]);
    let loads = 0;
    const load = () => Promise.resolve({ n: ++loads });
    expect(await c1!.get('k', load)).toEqual({ n: 1 });
    expect(await c1!.get('k', load)).toEqual({ n: 1 }); // kept
    expect(await c2!.get('k', load)).toEqual({ n: 2 }); // each instance has its own
    await c2!.clearEverywhere();
    expect(await c2!.get('k', load)).toEqual({ n: 3 });
    await soon(async () => (await c1!.get('k', load)).n > 1);
    await Promise.all([c1!.close(), c2!.close()]);
  });

  it('holds only the keys it is told to: listings always come from Redis', async () => {
    const key = cacheKeys.entry('listing', randomUUID());
    await raw.setIfGeneration(key, `${key}:gen`, '0', '"l1"', 60);
    expect(await one.cache.get(key)).toBe('"l1"');
    await one.redis!.set(key, '"l2"');
    expect(await one.cache.get(key)).toBe('"l2"');
  });

  it('serves nothing from memory while its subscription is down, and resumes after', async () => {
    const [key, gen] = entry();
    await raw.setIfGeneration(key, gen, '0', '"v1"', 60);
    expect(await one.cache.get(key)).toBe('"v1"');
    expect(nearOne.size).toBeGreaterThan(0);
    // Drop this instance's pub/sub connection: evictions published now would be lost.
    one.subscriber!.disconnect(true);
    await soon(() => Promise.resolve(!one.pubsub.available()));
    expect(nearOne.size).toBe(0);
    await one.redis!.set(key, '"v2"'); // a change whose eviction nobody heard
    expect(await one.cache.get(key)).toBe('"v2"');
    // ioredis reconnects and resubscribes; the near cache fills again and hears evictions again.
    await soon(() => Promise.resolve(one.pubsub.available() && two.pubsub.available()));
    expect(await one.cache.get(key)).toBe('"v2"');
    await two.cache.writeThrough(key, gen, '"v3"', 60);
    await soon(async () => (await one.cache.get(key)) === '"v3"');
  });
});

describe('session store on PostgreSQL', () => {
  let db: TestDatabase;
  let store: PostgresSessionStore;
  beforeAll(async () => {
    db = await createTestDatabase();
    store = new PostgresSessionStore({ db: createDatabase(db.pool) });
  });
  afterAll(async () => db?.drop());

  it('creates, reads, destroys, and ends a customer’s sessions', async () => {
    const { rows } = await db.pool.query<{ id: string }>(
      "INSERT INTO customers (email, name) VALUES ('s@example.com', 'S') RETURNING id",
    );
    const customerId = rows[0]!.id;
    const { token, session } = await store.create({ customerId });
    expect(await store.get(token)).toMatchObject({ id: session.id, customerId });
    const other = await store.create({ customerId });
    expect(await store.listForCustomer(customerId)).toHaveLength(2);
    expect(await store.destroyForCustomer(customerId)).toBe(2);
    expect(await store.listForCustomer(customerId)).toEqual([]);
    expect(await store.get(other.token)).toBeUndefined();
    const guest = await store.create({ customerId: null });
    await store.destroy(guest.token);
    expect(await store.get(guest.token)).toBeUndefined();
  });
});
