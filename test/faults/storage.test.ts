/**
 * Object storage (S3) goes away: the features that need it answer 503 for object storage within
 * seconds, readiness reports it as degraded, everything else keeps working, and the invoice the
 * worker could not write meanwhile is written once the storage is back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';
import { api } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';
import { s3Env, startS3, type TestS3 } from '../s3.ts';
import { TcpProxy } from './tcp-proxy.ts';

describe('object storage outage', () => {
  let s3: TestS3;
  let link: TcpProxy;
  let t: TestApp;
  const { call, request, newProduct } = api(() => t);
  beforeAll(async () => {
    s3 = await startS3();
    link = await TcpProxy.start({ host: '127.0.0.1', port: Number(new URL(s3.endpoint).port) });
    t = await createTestApp(s3Env(link.via(s3.endpoint)));
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await link?.close();
    await s3?.stop();
  });

  for (const kind of ['cut', 'freeze'] as const) {
    it(`answers 503 for object storage when it is ${kind === 'cut' ? 'refusing connections' : 'silent'}, and recovers`, async () => {
      const productId = await newProduct({ availableQuantity: 10 });
      const placed = await request<{ id: string; sessionToken: string }>('POST', '/store/orders', {
        body: { items: [{ productId, quantity: 1 }] },
      });
      expect(placed.status).toBe(201);
      const session = placed.body.sessionToken;

      if (kind === 'cut') await link.cut();
      else link.freeze();
      try {
        expect(
          (await call('POST', `/admin/orders/${placed.body.id}/transition`, { to: 'confirmed' })).status,
        ).toBe(200);
        const started = Date.now();
        const invoice = await call('GET', `/store/orders/${placed.body.id}/invoice`, undefined, session);
        expect(invoice.status).toBe(503);
        expect(invoice.body).toMatchObject({
          error: { code: 'dependency_unavailable', details: { dependency: 'object storage' } },
        });
        expect(Date.now() - started).toBeLessThan(10_000);
        // The rest of the store is unaffected, and readiness says degraded, not down.
        expect((await call('GET', `/store/products/${productId}`, undefined, null)).status).toBe(200);
        const ready = await call<{ status: string; dependencies: Record<string, { status: string }> }>(
          'GET',
          '/health/ready',
          undefined,
          null,
        );
        expect(ready.status).toBe(200);
        expect(ready.body.status).toBe('degraded');
        expect(ready.body.dependencies.storage!.status).toBe('down');
      } finally {
        await link.restore();
      }
      // The confirmation's event is retried by the relay until the invoice can be written.
      await eventually(
        async () => {
          const res = await call<{ url?: string }>(
            'GET',
            `/store/orders/${placed.body.id}/invoice`,
            undefined,
            session,
          );
          expect(res.status).toBe(200);
          expect(res.body.url).toMatch(/^http/);
        },
        { timeoutMs: 30_000, intervalMs: 250 },
      );
    });
  }
});
