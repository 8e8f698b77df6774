import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { LocalPubSub } from '../../platform/pubsub/pubsub.ts';
import { createLogger } from '../../platform/logger.ts';
import { FlexibleRateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { createRedis } from '../../platform/redis/client.ts';
import { freePort } from '../../../test/ports.ts';
import {
  MAX_BUFFERED_BYTES,
  MAX_SUBSCRIPTIONS_PER_CLIENT,
  RealtimeService,
  type Client,
} from './realtime.service.ts';

class FakeClient implements Client {
  sent: string[] = [];
  closed?: { code: number; reason: string };
  constructor(public bufferedAmount = 0) {}
  send(data: string) {
    this.sent.push(data);
  }
  close(code: number, reason: string) {
    this.closed = { code, reason };
  }
}

const flush = () => new Promise((r) => setImmediate(r));

describe('real-time fan-out', () => {
  it('sends each update to the clients of its product only', async () => {
    const rt = new RealtimeService({ pubsub: new LocalPubSub(), logger: createLogger('silent') });
    await rt.start();
    const [p, q] = [randomUUID(), randomUUID()];
    const a = new FakeClient();
    const b = new FakeClient();
    rt.subscribe(a, [`inventory:${p}`]);
    rt.subscribe(b, [`inventory:${q}`]);
    rt.publishStock([
      {
        productId: p,
        availableQuantity: 4,
        reservedQuantity: 1,
        variants: [{ variantId: p, availableQuantity: 4, reservedQuantity: 1 }],
      },
    ]);
    await flush();
    expect(a.sent.map((s) => JSON.parse(s) as unknown)).toEqual([
      {
        channel: `inventory:${p}`,
        productId: p,
        availableQuantity: 4,
        variants: [{ variantId: p, availableQuantity: 4 }],
      },
    ]);
    expect(b.sent).toEqual([]);
  });

  it('drops a client that does not keep up instead of buffering for it', async () => {
    const rt = new RealtimeService({ pubsub: new LocalPubSub(), logger: createLogger('silent') });
    await rt.start();
    const p = randomUUID();
    const slow = new FakeClient(MAX_BUFFERED_BYTES + 1);
    rt.subscribe(slow, [`inventory:${p}`]);
    rt.publishStock([{ productId: p, availableQuantity: 1, reservedQuantity: 0, variants: [] }]);
    await flush();
    expect(slow.sent).toEqual([]);
    expect(slow.closed?.code).toBe(1013);
    expect(rt.clientCount).toBe(0);
  });

  it('caps subscriptions per client and refuses unknown channels', () => {
    const rt = new RealtimeService({ pubsub: new LocalPubSub(), logger: createLogger('silent') });
    const c = new FakeClient();
    const many = Array.from({ length: MAX_SUBSCRIPTIONS_PER_CLIENT + 5 }, () => `inventory:${randomUUID()}`);
    const r = rt.subscribe(c, [...many, 'orders:all']);
    expect(r.accepted).toHaveLength(MAX_SUBSCRIPTIONS_PER_CLIENT);
    expect(r.rejected.filter((x) => x.reason === 'too_many_subscriptions')).toHaveLength(5);
    expect(r.rejected).toContainEqual({ channel: 'orders:all', reason: 'unknown_channel' });
  });
});

describe('rate limiter without its store', () => {
  it('counts in process memory while its store is away', async () => {
    const redis = createRedis({ url: `redis://127.0.0.1:${await freePort()}` }, { commandTimeoutMs: 100 });
    try {
      const limiter = new FlexibleRateLimiter(1, { prefix: 'down', redis });
      const first = await limiter.consume('k');
      expect(first.allowed).toBe(true);
      expect(first.failedOpen).toBeUndefined();
      expect(await limiter.consume('k')).toMatchObject({ allowed: false });
      expect(await limiter.consume('other')).toMatchObject({ allowed: true });
    } finally {
      redis.disconnect();
    }
  });
});
