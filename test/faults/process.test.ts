/**
 * The server process is killed (SIGKILL: no shutdown, no cleanup) in the middle of the load and
 * started again; shoppers retry with their keys meanwhile. Requests that were in flight die with
 * their transactions, and their keys can be retried at once after the restart.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, recordPlacedEvents, report, runLoad, SOAK, worstRecovery } from './harness.ts';
import { createWorld, STOCK, type World } from './setup.ts';

describe('the server process killed mid-load', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('completes every order exactly once after a restart, within seconds', async () => {
    const events = await recordPlacedEvents();
    const load = runLoad({
      base: () => world.server.base,
      adminKey: world.adminKey,
      products: world.products,
      clients: 20,
      orders: SOAK ? 600 : 200,
      thinkMs: SOAK ? 300 : 400,
    });
    await sleep(2500);
    const killed = world.server;
    const start = Date.now();
    killed.child.kill('SIGKILL');
    expect(await killed.exited).toBe('SIGKILL');
    await sleep(1000); // the shoppers meet a closed port meanwhile
    await world.restart();
    const faults = [{ start, end: Date.now() }];
    const runs = await load;
    report('process', runs, faults, events.ids.length);

    expect(world.server.alive, world.server.output()).toBe(true);
    // Counted from the moment the server listens again.
    expect(worstRecovery(runs, faults)).toBeLessThan(20_000);
    expect(runs.some((r) => r.seen.includes('neterr'))).toBe(true); // the kill did hit requests
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
