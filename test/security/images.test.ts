/**
 * Attacks on the image origin (`/images/*`, not rate limited so that a CDN can fetch): first
 * renders without limit (each is CPU-heavy), and probing made-up keys (each read storage). Now
 * first renders are capped (a bounded queue, then 503 with Retry-After), one render per rendition
 * serves all concurrent requests for it, unknown originals are remembered as absent, and misses
 * count against the address's budget.
 */
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/platform/storage/object-store.ts';
import { createTestApp, type TestApp } from '../app.ts';

describe('the image origin under load and probes', () => {
  let t: TestApp;
  const keys: string[] = [];
  beforeAll(async () => {
    t = await createTestApp({ IMAGE_RENDER_CONCURRENCY: '1', RATE_LIMIT_PER_MINUTE: '20' });
    const productId = (await t.app.services.catalog.createProduct({ name: 'Pôster', basePrice: 4990 })).id;
    for (let i = 0; i < 4; i++) {
      const png = await sharp({
        create: { width: 1800, height: 1200, channels: 3, background: { r: 10 * i, g: 80, b: 30 } },
      })
        .png()
        .toBuffer();
      keys.push((await t.app.services.media.addProductImage(productId, png)).key);
    }
  });
  afterAll(async () => t?.close());

  const image = (key: string, size: string, ip = '203.0.113.30', accept = 'image/png') =>
    t.server.inject({ url: `/images/${key}?size=${size}`, remoteAddress: ip, headers: { accept } });

  it('renders a rendition once for 20 concurrent first requests', async () => {
    const store = t.app.objects as ObjectStore & { put: ObjectStore['put'] };
    const put = store.put.bind(store);
    let puts = 0;
    store.put = (...a: Parameters<ObjectStore['put']>) => {
      puts++;
      return put(...a);
    };
    try {
      const res = await Promise.all(Array.from({ length: 20 }, () => image(keys[0]!, 'large')));
      expect(res.map((r) => r.statusCode)).toEqual(Array(20).fill(200));
    } finally {
      store.put = put;
    }
    expect(puts).toBe(1);
  });

  it('answers 503 with Retry-After past the render queue, never a 500', async () => {
    const burst = await Promise.all(
      keys
        .slice(1)
        .flatMap((k) =>
          ['thumbnail', 'medium', 'large'].flatMap((size) =>
            ['image/png', 'image/webp'].map((accept) => image(k, size, '203.0.113.31', accept)),
          ),
        ),
    );
    const statuses = burst.map((r) => r.statusCode);
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThan(0);
    const busy = burst.find((r) => r.statusCode === 503)!;
    expect(busy.json()).toMatchObject({ error: { code: 'render_busy' } });
    expect(Number(busy.headers['retry-after'])).toBeGreaterThanOrEqual(1);
  });

  it('remembers unknown originals and counts misses against the address', async () => {
    const store = t.app.objects as ObjectStore & { get: ObjectStore['get'] };
    const get = store.get.bind(store);
    let reads = 0;
    store.get = (...a: Parameters<ObjectStore['get']>) => {
      reads++;
      return get(...a);
    };
    try {
      const missing = 'products/none/made-up.png';
      expect((await image(missing, 'thumbnail', '203.0.113.32')).statusCode).toBe(404);
      const first = reads;
      expect((await image(missing, 'thumbnail', '203.0.113.33')).statusCode).toBe(404);
      expect(reads).toBe(first); // the second probe reads nothing
    } finally {
      store.get = get;
    }
    const statuses: number[] = [];
    for (let i = 0; i < 30; i++)
      statuses.push((await image(`products/none/${i}.png`, 'thumbnail', '203.0.113.34')).statusCode);
    expect(statuses.slice(0, 20).every((s) => s === 404)).toBe(true);
    expect(statuses.slice(21).every((s) => s === 429)).toBe(true);
    // A real image from that address is refused too while its budget is spent; others are served.
    expect((await image(keys[0]!, 'large', '203.0.113.34')).statusCode).toBe(429);
    expect((await image(keys[0]!, 'large', '203.0.113.35')).statusCode).toBe(200);
  });
});
