/**
 * The database goes away under load, twice: once cut (connections reset, new ones refused), once
 * frozen (nothing answers, nobody is told). The server stays up, says 503 while it lasts, and
 * every order completes exactly once within seconds of the database coming back.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkInvariants, recordPlacedEvents, report, runLoad, SOAK, worstRecovery } from './harness.ts';
import { createWorld, STOCK, type World } from './setup.ts';

describe('database outages under concurrent keyed orders', () => {
  let world: World;
  beforeAll(async () => {
    world = await createWorld();
  });
  afterAll(async () => world?.close());

  it('keeps the process up, answers 503 quickly while the database is away, and loses or repeats nothing', async () => {
    const events = await recordPlacedEvents();
    const faults: { start: number; end: number }[] = [];
    const probes: { what: string; status: number; ms: number; code?: string }[] = [];
    const probe = async (what: string, url: string) => {
      const started = Date.now();
      const res = await fetch(world.server.base + url, { signal: AbortSignal.timeout(10_000) });
      const body = (await res.json()) as { error?: { code: string } };
      probes.push({ what, status: res.status, ms: Date.now() - started, code: body.error?.code });
    };
    const load = runLoad({
      base: () => world.server.base,
      adminKey: world.adminKey,
      products: world.products,
      clients: 20,
      orders: SOAK ? 600 : 240,
      thinkMs: SOAK ? 300 : 600,
    });
    const outage = async (kind: 'cut' | 'freeze') => {
      const pg = world.proxies.postgres;
      const start = Date.now();
      if (kind === 'cut') await pg.cut();
      else pg.freeze();
      await sleep(1200); // past the connection timeout: what a client sees once the outage is known
      await Promise.all([
        probe(`ready during ${kind}`, '/health/ready'),
        probe(`products during ${kind}`, '/store/products?limit=5'),
      ]);
      await sleep(Math.max(0, 3000 - (Date.now() - start)));
      await pg.restore();
      faults.push({ start, end: Date.now() });
    };
    await sleep(2000);
    await outage('cut');
    await sleep(2500);
    await outage('freeze');
    const runs = await load;
    report('database', runs, faults, events.ids.length, probes);

    expect(world.server.alive, world.server.output()).toBe(true);
    expect(world.server.output()).not.toMatch(/shutting down after an error/);
    for (const p of probes) {
      expect(p.status, JSON.stringify(p)).toBe(503);
      expect(p.ms, JSON.stringify(p)).toBeLessThan(3000);
    }
    expect(
      probes.filter((p) => p.what.startsWith('products')).every((p) => p.code === 'dependency_unavailable'),
    ).toBe(true);
    // Interrupted orders were retried until they went through: all of them within 20 s of the end.
    expect(worstRecovery(runs, faults)).toBeLessThan(20_000);
    expect(runs.some((r) => r.seen.some((s) => s !== '201' && s !== '200'))).toBe(true); // the faults did hit
    // And after the outage the server answers normally without a restart.
    expect((await fetch(`${world.server.base}/health/ready`)).status).toBe(200);
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
