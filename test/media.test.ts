import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';

function multipart(field: string, data: Buffer, filename = 'foto.png', type = 'image/png') {
  const boundary = '----shopflow' + Math.random().toString(16).slice(2);
  const head = Buffer.from(
    `--${boundary}\r\nContent-Disposition: form-data; name="${field}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
  );
  return {
    payload: Buffer.concat([head, data, Buffer.from(`\r\n--${boundary}--\r\n`)]),
    contentType: `multipart/form-data; boundary=${boundary}`,
  };
}

describe('product images', () => {
  let t: TestApp;
  let productId: string;
  let original: Buffer;
  beforeAll(async () => {
    t = await createTestApp({ CDN_BASE_URL: 'https://cdn.shopflow.example' });
    productId = (await t.app.services.catalog.createProduct({ name: 'Quadro Decorativo', basePrice: 9990 }))
      .id;
    original = await sharp({
      create: { width: 2000, height: 1500, channels: 3, background: { r: 200, g: 80, b: 30 } },
    })
      .png()
      .toBuffer();
  });
  afterAll(async () => t?.close());

  const upload = (data: Buffer, filename?: string, type?: string) => {
    const m = multipart('file', data, filename, type);
    return t.server.inject({
      method: 'POST',
      url: `/admin/products/${productId}/images`,
      headers: { authorization: `Bearer ${t.adminKey}`, 'content-type': m.contentType },
      payload: m.payload,
    });
  };

  it('stores an original and serves three sizes, each smaller, with immutable caching', async () => {
    const res = await upload(original);
    expect(res.statusCode).toBe(201);
    const { key, urls } = res.json<{ key: string; urls: Record<string, string> }>();
    expect(urls.thumbnail).toBe(`https://cdn.shopflow.example/images/${key}?size=thumbnail`);

    const product = (await t.server.inject(`/store/products/${productId}`)).json<{
      images: { key: string; urls: { large: string } }[];
    }>();
    expect(product.images[0]).toMatchObject({
      key,
      urls: { large: `https://cdn.shopflow.example/images/${key}?size=large` },
    });

    for (const [size, px] of [
      ['thumbnail', 150],
      ['medium', 600],
      ['large', 1200],
    ] as const) {
      const img = await t.server.inject({
        url: `/images/${key}?size=${size}`,
        headers: { accept: 'image/png' },
      });
      expect(img.statusCode).toBe(200);
      expect(img.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      expect(img.headers['content-type']).toBe('image/png');
      expect(img.rawPayload.length).toBeLessThan(original.length);
      const meta = await sharp(img.rawPayload).metadata();
      expect(Math.max(meta.width, meta.height)).toBe(px);
      const again = await t.server.inject({
        url: `/images/${key}?size=${size}`,
        headers: { accept: 'image/png', 'if-none-match': String(img.headers.etag) },
      });
      expect(again.statusCode).toBe(304);
    }
    // Rendered once, then served from the stored rendition.
    expect(await t.app.objects.head('productImages', `renditions/medium/orig/${key}`)).toBeDefined();
  });

  it('answers WebP to clients that accept it, never upscales, and refuses bad sizes and keys', async () => {
    const small = await sharp({ create: { width: 300, height: 200, channels: 3, background: '#336699' } })
      .jpeg()
      .toBuffer();
    const { key } = (await upload(small, 'small.jpg', 'image/jpeg')).json<{ key: string }>();
    const webp = await t.server.inject({
      url: `/images/${key}?size=large`,
      headers: { accept: 'image/avif,image/webp,*/*' },
    });
    expect(webp.headers['content-type']).toBe('image/webp');
    expect((await sharp(webp.rawPayload).metadata()).width).toBe(300);
    expect((await t.server.inject(`/images/${key}?size=huge`)).statusCode).toBe(400);
    expect((await t.server.inject(`/images/${key}`)).statusCode).toBe(400);
    expect((await t.server.inject('/images/products/nope.png?size=medium')).statusCode).toBe(404);
    expect((await t.server.inject('/images/../../etc/passwd?size=medium')).statusCode).toBe(404);
  });

  it('refuses files that are not images, and decompression bombs, without storing them', async () => {
    const notImage = await upload(Buffer.from('%PDF-1.4 hello'), 'x.png', 'image/png');
    expect(notImage.statusCode).toBe(400);
    expect(notImage.json()).toMatchObject({ error: { code: 'unsupported_media_type' } });
    // A tiny file that claims 20000 x 20000 pixels.
    const bomb = await sharp({
      create: { width: 20000, height: 20000, channels: 3, background: '#000' },
      limitInputPixels: false,
    })
      .png({ compressionLevel: 9 })
      .toBuffer();
    const res = await upload(bomb, 'bomb.png');
    expect([400, 413]).toContain(res.statusCode);
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM product_images WHERE product_id = $1',
      [productId],
    );
    expect(rows[0]!.n).toBe(2);
    expect(
      (
        await t.server.inject({
          method: 'POST',
          url: `/admin/products/${productId}/images`,
          headers: { authorization: `Bearer ${t.adminKey}` },
          payload: {},
        })
      ).statusCode,
    ).toBe(400);
  });
});
