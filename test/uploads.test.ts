import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { s3Env, startS3, type TestS3 } from './s3.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(92, 7),
]);

type Created = {
  key: string;
  expiresAt: string;
  sessionToken?: string;
  upload: { method: string; url: string; fields: Record<string, string> };
};

for (const driver of ['local', 's3'] as const) {
  describe(`customization uploads (${driver} storage)`, () => {
    let t: TestApp;
    let s3: TestS3 | undefined;
    beforeAll(async () => {
      s3 = driver === 's3' ? await startS3() : undefined;
      t = await createTestApp(s3 ? s3Env(s3.endpoint) : {});
    });
    afterAll(async () => {
      await t?.close();
      await s3?.stop();
    });

    /** Sends the presigned form: to s3rver over HTTP, or to our own /storage/upload. */
    const send = async (c: Created, bytes: Buffer, type = 'image/png') => {
      const form = new FormData();
      for (const [k, v] of Object.entries(c.upload.fields)) form.append(k, v);
      form.append('file', new Blob([bytes], { type }), 'file');
      if (driver === 's3') return (await fetch(c.upload.url, { method: 'POST', body: form })).status;
      const req = new Request('http://x/', { method: 'POST', body: form });
      const res = await t.server.inject({
        method: 'POST',
        url: new URL(c.upload.url).pathname,
        headers: { 'content-type': req.headers.get('content-type')! },
        payload: Buffer.from(await req.arrayBuffer()),
      });
      return res.statusCode;
    };
    const download = async (url: string) => {
      if (driver === 's3') {
        const r = await fetch(url);
        return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
      }
      const u = new URL(url);
      const r = await t.server.inject({ url: u.pathname + u.search });
      return { status: r.statusCode, body: r.rawPayload };
    };
    const newUpload = async (token: string | undefined, body: object) => {
      const res = await t.server.inject({
        method: 'POST',
        url: '/store/uploads',
        payload: body,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });
      return { status: res.statusCode, body: res.json<Created & { error: { code: string } }>() };
    };

    it('uploads under the caller’s prefix; the owner reads it back, nobody else can', async () => {
      const first = await newUpload(undefined, {
        fileName: 'Foto do Presente.png',
        contentType: 'image/png',
        size: PNG.length,
      });
      expect(first.status).toBe(201);
      const token = first.body.sessionToken!;
      expect(first.body.key).toMatch(/^uploads\/s\/[0-9a-f]{32}\/[0-9a-f-]{36}\/Foto-do-Presente\.png$/);
      expect(await send(first.body, PNG)).toBeLessThan(300);

      const read = await t.server.inject({
        url: `/store/uploads/${first.body.key}`,
        headers: { authorization: `Bearer ${token}` },
      });
      expect(read.statusCode).toBe(200);
      const got = await download(read.json<{ url: string }>().url);
      expect(got.status).toBe(200);
      expect(got.body.equals(PNG)).toBe(true);

      const other = (await newUpload(undefined, { fileName: 'x.png', contentType: 'image/png', size: 10 }))
        .body.sessionToken!;
      expect(
        (
          await t.server.inject({
            url: `/store/uploads/${first.body.key}`,
            headers: { authorization: `Bearer ${other}` },
          })
        ).statusCode,
      ).toBe(404);
      expect((await t.server.inject({ url: `/store/uploads/${first.body.key}` })).statusCode).toBe(404);

      // The key can go into an order's customization, by its owner only.
      const product = await t.app.services.catalog.createProduct({
        name: 'Caneca com Foto',
        basePrice: 3990,
        availableQuantity: 5,
      });
      const order = (who: string) =>
        t.server.inject({
          method: 'POST',
          url: '/store/orders',
          headers: { authorization: `Bearer ${who}` },
          payload: {
            items: [{ productId: product.id, quantity: 1, customization: { uploadKey: first.body.key } }],
          },
        });
      expect((await order(other)).statusCode).toBe(400);
      const cart = (
        await t.server.inject({
          method: 'POST',
          url: '/store/carts',
          headers: { authorization: `Bearer ${other}` },
        })
      ).json<{ id: string }>();
      const line = await t.server.inject({
        method: 'POST',
        url: `/store/carts/${cart.id}/items`,
        headers: { authorization: `Bearer ${other}` },
        payload: { productId: product.id, quantity: 1, customization: { uploadKey: first.body.key } },
      });
      expect(line.statusCode).toBe(400);
      expect((await order(token)).statusCode).toBe(201);
    });

    it('refuses oversized and wrong-type uploads in the API', async () => {
      const big = await newUpload(undefined, {
        fileName: 'a.png',
        contentType: 'image/png',
        size: 50 * 1024 * 1024,
      });
      expect(big.status).toBe(413);
      expect(big.body.error.code).toBe('payload_too_large');
      const exe = await newUpload(undefined, {
        fileName: 'a.exe',
        contentType: 'application/x-msdownload',
        size: 100,
      });
      expect(exe.status).toBe(400);
      expect(exe.body.error.code).toBe('unsupported_media_type');
    });

    it.skipIf(driver === 's3')(
      'enforces size, type and signature on the actual bytes (local driver; S3 does it from the policy)',
      async () => {
        const c = (
          await newUpload(undefined, { fileName: 'a.png', contentType: 'image/png', size: PNG.length })
        ).body;
        expect(await send(c, Buffer.concat([PNG, Buffer.alloc(10)]))).toBe(413);
        expect(await send(c, Buffer.alloc(PNG.length, 65))).toBe(400);
        expect(
          await send(
            {
              ...c,
              upload: {
                ...c.upload,
                fields: { ...c.upload.fields, key: c.key.replace(/[^/]+$/, 'other.png') },
              },
            },
            PNG,
          ),
        ).toBe(403);
        expect(
          await send({ ...c, upload: { ...c.upload, fields: { ...c.upload.fields, expires: '1000' } } }, PNG),
        ).toBe(403);
        expect(await send(c, PNG)).toBe(204);
      },
    );
  });
}
