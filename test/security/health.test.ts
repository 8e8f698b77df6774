/**
 * Attack: /health/ready ran every dependency probe on each call and returned raw error text (hosts
 * and ports). Now one round of probes answers every caller for a second, the public answer names
 * no host, admins get the detail, and /metrics can require a token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/eventually.ts';
import { createTestApp, type TestApp } from '../app.ts';

describe('health and metrics', () => {
  let t: TestApp;
  beforeAll(async () => {
    // A Redis that is not there: its probe fails with an error that names the address.
    t = await createTestApp({ REDIS_URL: 'redis://127.0.0.1:1', METRICS_TOKEN: 'metrics-token-of-16+' });
  });
  afterAll(async () => t?.close());

  type Ready = { status: string; dependencies: Record<string, { status: string; error?: string }> };

  it('answers the public without error details, and admins with them', async () => {
    const pub = (await t.server.inject('/health/ready')).json<Ready>();
    expect(pub.dependencies.redis).toMatchObject({ status: 'down', error: 'unavailable' });
    expect(JSON.stringify(pub)).not.toMatch(/127\.0\.0\.1|:1\b/);
    const admin = (
      await t.server.inject({ url: '/health/ready', headers: { authorization: `Bearer ${t.adminKey}` } })
    ).json<Ready>();
    expect(admin.dependencies.redis!.error).not.toBe('unavailable');
  });

  it('probes the dependencies once a second at most for a burst of 200 readiness calls', async () => {
    let probes = 0;
    const database = t.app.healthChecks[0]!;
    const original = database.check.bind(database);
    database.check = () => {
      probes++;
      return original();
    };
    try {
      // A round that starts now (the previous round's answer has expired) ...
      await eventually(async () => {
        await t.server.inject('/health/ready');
        expect(probes).toBe(1);
      });
      // ... answers the burst: one more round per second the burst takes, whatever the machine.
      const started = Date.now();
      await Promise.all(Array.from({ length: 200 }, () => t.server.inject('/health/ready')));
      expect(probes - 1).toBeLessThanOrEqual(Math.floor((Date.now() - started) / 1000) + 1);
      expect(probes - 1).toBeLessThan(5);
    } finally {
      database.check = original;
    }
  });

  it('keeps /metrics behind METRICS_TOKEN when it is set', async () => {
    expect((await t.server.inject('/metrics')).statusCode).toBe(401);
    expect(
      (await t.server.inject({ url: '/metrics', headers: { authorization: 'Bearer wrong-token-xxxxxxxx' } }))
        .statusCode,
    ).toBe(401);
    const ok = await t.server.inject({
      url: '/metrics',
      headers: { authorization: 'Bearer metrics-token-of-16+' },
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('http_request_duration');
  });
});
