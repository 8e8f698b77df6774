/**
 * The server process is killed (SIGKILL: no shutdown, no cleanup) in the middle of the load and
 * started again; shoppers retry with their keys meanwhile. Requests that were in flight die with
 * their transactions, and their keys can be retried at once after the restart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOAK } from './harness.ts';
import { createWorld, Scenario, type World } from './setup.ts';

describe('the server process killed mid-load', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('completes every order exactly once after a restart, within seconds', async () => {
    const s = await Scenario.start(world, { orders: SOAK ? 600 : 200, thinkMs: SOAK ? 300 : 400 });
    await sleep(2500);
    const killed = world.server;
    const start = Date.now();
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');
    await sleep(1000); // the shoppers meet a closed port meanwhile
    await world.restart();
    s.fault(start); // recovery counted from the moment the server listens again
    const runs = await s.finish('process');
    expect(runs.some((r) => r.seen.includes('neterr'))).toBe(true); // the kill did hit requests
    // The load takes ~25 s and the relay may wait out the dead process's lane leases (10 s) before
    // draining: on a busy machine that passed the default 60 s.
  }, 120_000);
});
