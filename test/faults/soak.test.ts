/**
 * The long run (FAULTS_SOAK=1): the operator's scenario in one go. 20 shoppers place 600 orders
 * with keys while the database is cut twice for 3 s, Redis and RabbitMQ each go away, and the
 * server is killed with SIGKILL once and restarted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, recordPlacedEvents, report, runLoad, SOAK, worstRecovery } from './harness.ts';
import { createWorld, STOCK, type World } from './setup.ts';

describe.skipIf(!SOAK)('soak: every fault in one run (FAULTS_SOAK=1)', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('keeps every order exactly once through database cuts, a kill, and Redis and RabbitMQ outages', async () => {
    const events = await recordPlacedEvents();
    const faults: { start: number; end: number }[] = [];
    const load = runLoad({
      base: () => world.server.base,
      adminKey: world.adminKey,
      products: world.products,
      clients: 20,
      orders: 600,
      thinkMs: 600,
    });
    const outage = async (proxy: 'postgres' | 'redis' | 'rabbitmq', ms: number) => {
      const start = Date.now();
      await world.proxies[proxy].cut();
      await sleep(ms);
      await world.proxies[proxy].restore();
      faults.push({ start, end: Date.now() });
    };
    await sleep(2000);
    await outage('postgres', 3000);
    await sleep(3000);
    await outage('redis', 3000);
    await sleep(3000);
    const start = Date.now();
    world.server.child.kill('SIGKILL');
    await world.server.exited;
    await sleep(1000);
    await world.restart();
    faults.push({ start, end: Date.now() });
    await sleep(3000);
    await outage('postgres', 3000);
    await sleep(3000);
    await outage('rabbitmq', 5000);
    const runs = await load;
    report('soak', runs, faults, events.ids.length);

    expect(world.server.alive, world.server.output()).toBe(true);
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
