/**
 * deploy/redis.conf keeps what matters in Redis across a crash: a Redis started with it, killed
 * with SIGKILL and started again still has the sessions and the rate-limit counts (AOF, fsync every
 * second), so a Redis restart neither logs customers out nor resets the limits.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { closeRedis, createRedis, waitReady } from '../src/platform/redis/client.ts';
import { RedisSessionStore } from '../src/platform/sessions/redis.session-store.ts';
import { FlexibleRateLimiter } from '../src/platform/ratelimit/rate-limiter.ts';
import { redisServerBinary, startLocalRedis } from './redis.ts';

const CONFIG = new URL('../deploy/redis.conf', import.meta.url).pathname;

describe.skipIf(!redisServerBinary())('Redis persistence with deploy/redis.conf', () => {
  it('keeps sessions and rate-limit state across a SIGKILL and a restart', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shopflow-redis-aof-'));
    const redis = await startLocalRedis({ config: CONFIG, dir });
    const connect = () => createRedis({ url: redis.url }, { commandTimeoutMs: 1000, keyPrefix: 'p:' });
    let client = connect();
    try {
      expect(await waitReady(client, 5000)).toBe(true);
      const sessions = new RedisSessionStore(client);
      const { token, session } = await sessions.create({
        customerId: '6f1c2c1e-8a52-4f0e-9d35-3a4f3f1b2c10',
      });
      const limiter = new FlexibleRateLimiter(5, { prefix: 'rl', redis: client });
      for (let i = 0; i < 3; i++) await limiter.consume('203.0.113.9');
      await sleep(1500); // appendfsync everysec: at most about a second of writes is at risk

      await redis.stop(); // SIGKILL: no shutdown save
      await closeRedis(client);
      await redis.start();
      client = connect();
      expect(await waitReady(client, 5000)).toBe(true);
      const back = await new RedisSessionStore(client).get(token);
      expect(back).toMatchObject({ id: session.id, customerId: session.customerId });
      const after = await new FlexibleRateLimiter(5, { prefix: 'rl', redis: client }).consume('203.0.113.9');
      expect(after).toMatchObject({ allowed: true, remaining: 1 });
    } finally {
      await closeRedis(client);
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
