import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from './helpers/eventually.ts';
import { createTestApp, type TestApp } from './app.ts';
import { s3Env, startS3, type TestS3 } from './s3.ts';
import { invoiceKey } from '../src/modules/invoices/invoices.service.ts';

for (const driver of ['local', 's3'] as const) {
  describe(`invoices (${driver} storage)`, () => {
    let t: TestApp;
    let s3: TestS3 | undefined;
    beforeAll(async () => {
      s3 = driver === 's3' ? await startS3() : undefined;
      t = await createTestApp(s3 ? s3Env(s3.endpoint) : {});
      await t.app.worker.start();
    });
    afterAll(async () => {
      await t?.close();
      await s3?.stop();
    });

    const as = (token: string) => ({ authorization: `Bearer ${token}` });
    const fetchBytes = async (url: string) => {
      if (driver === 's3') return Buffer.from(await (await fetch(url)).arrayBuffer());
      const u = new URL(url);
      return (await t.server.inject({ url: u.pathname + u.search })).rawPayload;
    };

    it('renders a PDF once when the order is confirmed; the owner downloads it, others get 404', async () => {
      await t.server.inject({
        method: 'POST',
        url: '/store/customers',
        payload: {
          email: `fatura-${driver}@example.com`,
          password: 'senha-fatura-1',
          name: 'Joana Conceição',
        },
      });
      const token = (
        await t.server.inject({
          method: 'POST',
          url: '/store/auth/login',
          payload: { email: `fatura-${driver}@example.com`, password: 'senha-fatura-1' },
        })
      ).json<{ sessionToken: string }>().sessionToken;
      const product = await t.app.services.catalog.createProduct({
        name: 'Jogo de Panelas Antiaderente',
        basePrice: 45990,
        availableQuantity: 3,
      });
      const order = (
        await t.server.inject({
          method: 'POST',
          url: '/store/orders',
          headers: as(token),
          payload: { items: [{ productId: product.id, quantity: 2 }] },
        })
      ).json<{ id: string }>();

      // Not confirmed yet: no invoice to be had.
      expect(
        (await t.server.inject({ url: `/store/orders/${order.id}/invoice`, headers: as(token) })).statusCode,
      ).toBe(404);

      expect(
        (
          await t.server.inject({
            method: 'POST',
            url: `/store/orders/${order.id}/payments`,
            headers: as(token),
            payload: { paymentMethod: 'tok_visa' },
          })
        ).statusCode,
      ).toBe(201);
      // 202 with Retry-After while the worker renders it, then 200.
      const res = await eventually(
        async () => {
          const r = await t.server.inject({ url: `/store/orders/${order.id}/invoice`, headers: as(token) });
          if (r.statusCode === 202) expect(r.headers['retry-after']).toBeDefined();
          expect(r.statusCode).toBe(200);
          return r;
        },
        { timeoutMs: 5000, intervalMs: 100 },
      );
      const pdf = await fetchBytes(res.json<{ url: string }>().url);
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(pdf.length).toBeGreaterThan(1000);

      const head = await t.app.objects.head('invoices', invoiceKey(order.id));
      expect(head).toMatchObject({ contentType: 'application/pdf' });
      expect(
        Object.fromEntries(Object.entries(head!.metadata).map(([k, v]) => [k.toLowerCase(), v])),
      ).toMatchObject({ orderid: order.id });

      // Running the job again changes nothing.
      expect(await t.app.services.invoices.generate(order.id)).toBe(false);
      expect((await t.app.objects.head('invoices', invoiceKey(order.id)))!.etag).toBe(head!.etag);

      const other = (await t.server.inject({ method: 'POST', url: '/store/carts' })).json<{
        sessionToken: string;
      }>().sessionToken;
      expect(
        (await t.server.inject({ url: `/store/orders/${order.id}/invoice`, headers: as(other) })).statusCode,
      ).toBe(404);
    });
  });
}
