/**
 * Attack surface of what browsers receive: session cookies over plain HTTP, framing and sniffing,
 * and a customer's uploaded file rendered as a page of our origin. Now: Secure cookies by default
 * (unless listening on loopback), security headers on every answer (helmet's, computed once), and private
 * files served as attachments with nosniff (local store) or a signed attachment disposition (S3).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { s3Env, startS3, type TestS3 } from '../s3.ts';

const PNG = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  Buffer.alloc(92, 7),
]);

describe('cookies and headers', () => {
  it('marks the session cookie Secure unless the server listens on loopback', () => {
    expect(loadConfig({ HOST: '0.0.0.0' }).http.secureCookie).toBe(true);
    expect(loadConfig({ HOST: '10.1.2.3' }).http.secureCookie).toBe(true);
    expect(loadConfig({ HOST: '127.0.0.1' }).http.secureCookie).toBe(false);
    expect(loadConfig({ HOST: '0.0.0.0', COOKIE_SECURE: 'false' }).http.secureCookie).toBe(false);
  });
});

describe('security headers and private files (local store)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({ HOST: '0.0.0.0' });
  });
  afterAll(async () => t?.close());

  it('sends security headers on API answers, and a Secure session cookie', async () => {
    const res = await t.server.inject({ method: 'POST', url: '/store/carts' });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
    expect(res.headers['content-security-policy']).toBe("default-src 'none';frame-ancestors 'none'");
    // The OpenAPI UI's pages get helmet's full set, with a policy that lets the UI run.
    const docs = await t.server.inject('/docs/');
    expect(docs.headers['content-security-policy']).toMatch(/default-src 'self'.*frame-ancestors 'none'/);
    expect(docs.headers['cross-origin-opener-policy']).toBe('same-origin');
    expect(String(res.headers['set-cookie'])).toMatch(/; Secure/);
  });

  it('serves an uploaded file as an attachment that is never sniffed', async () => {
    const created = await t.server.inject({
      method: 'POST',
      url: '/store/uploads',
      payload: { fileName: 'a.png', contentType: 'image/png', size: PNG.length },
    });
    const { key, sessionToken, upload } = created.json<{
      key: string;
      sessionToken: string;
      upload: { url: string; fields: Record<string, string> };
    }>();
    const form = new FormData();
    for (const [k, v] of Object.entries(upload.fields)) form.append(k, v);
    form.append('file', new Blob([PNG], { type: 'image/png' }), 'a.png');
    const req = new Request('http://x/', { method: 'POST', body: form });
    const put = await t.server.inject({
      method: 'POST',
      url: new URL(upload.url).pathname,
      headers: { 'content-type': req.headers.get('content-type')! },
      payload: Buffer.from(await req.arrayBuffer()),
    });
    expect(put.statusCode).toBe(204);
    const link = await t.server.inject({
      url: `/store/uploads/${key}`,
      headers: { authorization: `Bearer ${sessionToken}` },
    });
    const url = new URL(link.json<{ url: string }>().url);
    const file = await t.server.inject({ url: url.pathname + url.search });
    expect(file.statusCode).toBe(200);
    expect(file.headers['content-disposition']).toBe('attachment');
    expect(file.headers['x-content-type-options']).toBe('nosniff');
  });
});

describe('private files on S3', () => {
  let s3: TestS3;
  let t: TestApp;
  beforeAll(async () => {
    s3 = await startS3();
    t = await createTestApp(s3Env(s3.endpoint));
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  it('signs download links that make S3 answer with an attachment disposition', async () => {
    const url = await t.app.objects.signedGetUrl('invoices', 'invoices/x.pdf', 60);
    expect(new URL(url).searchParams.get('response-content-disposition')).toBe('attachment');
    const image = await t.app.objects.signedGetUrl('productImages', 'products/x.png', 60);
    expect(new URL(image).searchParams.get('response-content-disposition')).toBeNull();
  });
});
