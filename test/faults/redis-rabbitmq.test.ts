/**
 * Redis and RabbitMQ go away under load. Neither holds an order: with Redis away the store keeps
 * taking orders (sessions, caches and limits degrade, or answer 503 where they must), and with
 * RabbitMQ away events wait in the outbox and are delivered when it returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOAK } from './harness.ts';
import { createWorld, Scenario, type World } from './setup.ts';

describe('Redis and RabbitMQ outages during orders', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('keeps taking orders through both, and delivers every event once the broker is back', async () => {
    const s = await Scenario.start(world, { orders: SOAK ? 600 : 240, thinkMs: SOAK ? 300 : 600 });
    await sleep(2000);
    await s.outage('redis', 3000, { probeAfterMs: 1000 });
    await sleep(2000);
    // Long enough for the relay to fail, back off and retry several times.
    await s.outage('rabbitmq', 5000, { probeAfterMs: 1000 });
    await s.finish('redis-rabbitmq');
    // Optional dependencies down: degraded, still ready (200), reads still served, quickly.
    for (const p of s.probes) {
      expect(p.status, JSON.stringify(p)).toBe(200);
      expect(p.ms, JSON.stringify(p)).toBeLessThan(3000);
    }
  });
});
