/**
 * Redis and RabbitMQ go away under load. Neither holds an order: with Redis away the store keeps
 * taking orders (sessions, caches and limits degrade, or answer 503 where they must), and with
 * RabbitMQ away events wait in the outbox and are delivered when it returns.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, recordPlacedEvents, report, runLoad, SOAK, worstRecovery } from './harness.ts';
import { createWorld, STOCK, type World } from './setup.ts';

describe('Redis and RabbitMQ outages during orders', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('keeps taking orders through both, and delivers every event once the broker is back', async () => {
    const events = await recordPlacedEvents();
    const faults: { start: number; end: number }[] = [];
    const probes: { what: string; status: number; ms: number }[] = [];
    const probe = async (what: string, url: string) => {
      const started = Date.now();
      const res = await fetch(world.server.base + url, { signal: AbortSignal.timeout(10_000) });
      probes.push({ what, status: res.status, ms: Date.now() - started });
    };
    const load = runLoad({
      base: () => world.server.base,
      adminKey: world.adminKey,
      products: world.products,
      clients: 20,
      orders: SOAK ? 600 : 240,
      thinkMs: SOAK ? 300 : 600,
    });
    const outage = async (proxy: 'redis' | 'rabbitmq', ms: number) => {
      const start = Date.now();
      await world.proxies[proxy].cut();
      await sleep(1000);
      await Promise.all([
        probe(`ready without ${proxy}`, '/health/ready'),
        probe(`products without ${proxy}`, '/store/products?limit=5'),
      ]);
      await sleep(Math.max(0, ms - (Date.now() - start)));
      await world.proxies[proxy].restore();
      faults.push({ start, end: Date.now() });
    };
    await sleep(2000);
    await outage('redis', 3000);
    await sleep(2000);
    // Long enough for the relay to fail, back off and retry several times.
    await outage('rabbitmq', 5000);
    const runs = await load;
    report('redis-rabbitmq', runs, faults, events.ids.length, probes);

    expect(world.server.alive, world.server.output()).toBe(true);
    expect(world.server.output()).not.toMatch(/shutting down after an error/);
    // Optional dependencies down: degraded, still ready (200), reads still served, quickly.
    for (const p of probes) {
      expect(p.status, JSON.stringify(p)).toBe(200);
      expect(p.ms, JSON.stringify(p)).toBeLessThan(3000);
    }
    expect(worstRecovery(runs, faults)).toBeLessThan(20_000);
    await checkInvariants({
      runs,
      db: world.db.pool,
      stock: STOCK,
      products: world.products,
      dataDir: world.dataDir,
      events,
    });
    await events.close();
  });
});
