/**
 * The database goes away under load, twice: once cut (connections reset, new ones refused), once
 * frozen (nothing answers, nobody is told). The server stays up, says 503 while it lasts, and
 * every order completes exactly once within seconds of the database coming back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SOAK } from './harness.ts';
import { createWorld, Scenario, type World } from './setup.ts';

describe('database outages under concurrent keyed orders', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('keeps the process up, answers 503 quickly while the database is away, and loses or repeats nothing', async () => {
    const s = await Scenario.start(world, { orders: SOAK ? 600 : 240, thinkMs: SOAK ? 300 : 600 });
    await sleep(2000);
    // Probed past the connection timeout: what a client sees once the outage is known.
    await s.outage('postgres', 3000, { kind: 'cut', probeAfterMs: 1200 });
    await sleep(2500);
    await s.outage('postgres', 3000, { kind: 'freeze', probeAfterMs: 1200 });
    const runs = await s.finish('database');

    for (const p of s.probes) {
      expect(p.status, JSON.stringify(p)).toBe(503);
      expect(p.ms, JSON.stringify(p)).toBeLessThan(3000);
    }
    expect(
      s.probes.filter((p) => p.what.startsWith('products')).every((p) => p.code === 'dependency_unavailable'),
    ).toBe(true);
    expect(runs.some((r) => r.seen.some((x) => x !== '201' && x !== '200'))).toBe(true); // the faults did hit
    // And after the outage the server answers normally without a restart.
    expect((await fetch(`${world.server.base}/health/ready`)).status).toBe(200);
  });
});
