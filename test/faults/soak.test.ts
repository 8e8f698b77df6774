/**
 * The long run (FAULTS_SOAK=1): the operator's scenario in one go. 20 shoppers place 600 orders
 * with keys while the database is cut twice for 3 s, Redis and RabbitMQ each go away, and the
 * server is killed with SIGKILL once and restarted.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { SOAK } from './harness.ts';
import { createWorld, Scenario, type World } from './setup.ts';

describe.skipIf(!SOAK)('soak: every fault in one run (FAULTS_SOAK=1)', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('keeps every order exactly once through database cuts, a kill, and Redis and RabbitMQ outages', async () => {
    const s = await Scenario.start(world, { orders: 600, thinkMs: 600 });
    await sleep(2000);
    await s.outage('postgres', 3000);
    await sleep(3000);
    await s.outage('redis', 3000);
    await sleep(3000);
    const start = Date.now();
    world.server.child.kill('SIGKILL');
    await world.server.exited;
    await sleep(1000);
    await world.restart();
    s.fault(start);
    await sleep(3000);
    await s.outage('postgres', 3000);
    await sleep(3000);
    await s.outage('rabbitmq', 5000);
    await s.finish('soak');
  });
});
