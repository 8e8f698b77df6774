/**
 * Attack: exhaust the server's memory through the local store's upload endpoint. The route used to
 * accept files up to 1 GiB and read the whole file into memory before checking the signature.
 * Now the signed fields are checked before a byte of the file is read, and the file streams to
 * disk under the smaller of the signed size and UPLOAD_MAX_BYTES.
 */
import http from 'node:http';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../app.ts';

const MB = 1024 * 1024;
const BOUNDARY = 'shopflow-attack-boundary';

/** A multipart form whose file part is `fileBytes` of zeros, generated as it is sent. */
function form(fields: Record<string, string>, fileBytes: number): Readable {
  const head =
    Object.entries(fields)
      .map(([k, v]) => `--${BOUNDARY}\r\nContent-Disposition: form-data; name="${k}"\r\n\r\n${v}\r\n`)
      .join('') +
    `--${BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`;
  const chunk = Buffer.alloc(64 * 1024);
  let sent = 0;
  return new Readable({
    read() {
      if (sent === 0) this.push(Buffer.from(head));
      if (sent >= fileBytes) {
        this.push(Buffer.from(`\r\n--${BOUNDARY}--\r\n`));
        this.push(null);
        return;
      }
      const n = Math.min(chunk.length, fileBytes - sent);
      sent += n;
      this.push(n === chunk.length ? chunk : chunk.subarray(0, n));
    },
  });
}

/** Posts the form over a real socket; resolves with the status and the peak RSS growth meanwhile. */
function post(base: string, body: Readable): Promise<{ status: number; peakGrowthMb: number }> {
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 10);
  return new Promise((resolve, reject) => {
    const req = http.request(
      `${base}/storage/upload`,
      { method: 'POST', headers: { 'content-type': `multipart/form-data; boundary=${BOUNDARY}` } },
      (res) => {
        res.resume();
        res.on('end', () => {
          clearInterval(sampler);
          body.destroy();
          resolve({ status: res.statusCode ?? 0, peakGrowthMb: (peak - start) / MB });
        });
      },
    );
    // The server closes the connection early on purpose: the rest of the body is never sent.
    req.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE' && e.code !== 'ECONNRESET') reject(e);
    });
    body.pipe(req);
  });
}

describe('uploads to the local store cannot exhaust memory', () => {
  let t: TestApp;
  let base: string;
  beforeAll(async () => {
    t = await createTestApp({ UPLOAD_MAX_BYTES: String(5 * MB) });
    base = await t.server.listen({ host: '127.0.0.1', port: 0 });
  });
  afterAll(async () => t?.close());

  it('refuses a 200 MB upload without a valid signature before reading it, memory flat', async () => {
    const r = await post(
      base,
      form(
        {
          bucket: 'userUploads',
          key: 'uploads/guest/x/a.png',
          'Content-Type': 'image/png',
          maxBytes: String(1024 * MB),
          expires: String(Math.floor(Date.now() / 1000) + 600),
          signature: 'forged',
        },
        200 * MB,
      ),
    );
    expect(r.status).toBe(403);
    expect(r.peakGrowthMb).toBeLessThan(50);
  });

  it('stops a signed upload at its signed size (and never above UPLOAD_MAX_BYTES), storing nothing', async () => {
    const created = await t.server.inject({
      method: 'POST',
      url: '/store/uploads',
      payload: { fileName: 'a.png', contentType: 'image/png', size: 1 * MB },
    });
    expect(created.statusCode).toBe(201);
    const { key, upload } = created.json<{ key: string; upload: { fields: Record<string, string> } }>();
    const r = await post(base, form(upload.fields, 100 * MB));
    expect(r.status).toBe(413);
    expect(r.peakGrowthMb).toBeLessThan(50);
    expect(await t.app.objects.head('userUploads', key)).toBeUndefined();
  });
});
