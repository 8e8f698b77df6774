import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CSV_COLUMNS } from '../src/modules/catalog/catalog-csv.model.ts';
import type { ImportOptions } from '../src/modules/catalog/catalog-import.service.ts';
import { createTestApp, type TestApp } from './app.ts';

const HEADER = CSV_COLUMNS.join(',');

/** A one-variant product's row (the columns the export writes for it). */
function row(handle: string, sku: string, images: string): string {
  const v: Partial<Record<(typeof CSV_COLUMNS)[number], string>> = {
    handle,
    name: `Produto ${handle}`,
    sku,
    price: '10.00',
    stock: '5',
    position: '0',
    images,
  };
  return CSV_COLUMNS.map((c) => v[c] ?? '').join(',');
}
const file = (...rows: string[]) => [HEADER, ...rows].join('\n') + '\n';

const MAX_BYTES = 200_000;

/** A local image server: path -> [content type, body]; counts the requests per path. */
async function imageServer(files: Record<string, [string, Buffer]>) {
  const hits = new Map<string, number>();
  const server: Server = createServer((req, res) => {
    const path = req.url ?? '/';
    hits.set(path, (hits.get(path) ?? 0) + 1);
    if (path === '/moved.png') {
      res.writeHead(302, { location: '/a.png' }).end();
      return;
    }
    const f = files[path];
    if (!f) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': f[0] }).end(f[1]);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    hits,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const picture = (r: number, format: 'png' | 'jpeg' = 'png') => {
  const image = sharp({ create: { width: 40, height: 30, channels: 3, background: { r, g: 80, b: 30 } } });
  return (format === 'png' ? image.png() : image.jpeg()).toBuffer();
};

describe('catalog CSV images: object keys and URLs', () => {
  let t: TestApp;
  let web: Awaited<ReturnType<typeof imageServer>>;
  const options = (o: Partial<ImportOptions> = {}): ImportOptions => ({
    dryRun: false,
    partial: false,
    ...o,
  });

  beforeAll(async () => {
    web = await imageServer({
      '/a.png': ['image/png', await picture(10)],
      '/b.jpg': ['image/jpeg', await picture(20, 'jpeg')],
      '/shared.png': ['image/png', await picture(30)],
      '/text.png': ['text/html', Buffer.from('<html>not an image</html>')],
      '/fake.png': ['image/png', Buffer.from('not really a png')],
      '/big.png': ['image/png', Buffer.alloc(MAX_BYTES + 1, 7)],
    });
    t = await createTestApp({
      CATALOG_IMPORT_ALLOW_PRIVATE_URLS: 'true',
      IMAGE_MAX_BYTES: String(MAX_BYTES),
    });
  });
  afterAll(async () => {
    await t?.close();
    await web?.close();
  });

  const importText = (text: string, o: Partial<ImportOptions> = {}, app = t) =>
    app.app.services.catalogFiles.import(() => Readable.from([Buffer.from(text)]), options(o));
  const exportText = async () => {
    let out = '';
    for await (const part of t.app.services.catalogFiles.exportCsv(2)) out += part;
    return out;
  };
  const imagesOf = async (slug: string) =>
    (
      await t.db.pool.query<{ key: string }>(
        `SELECT im.key FROM product_images im JOIN products p ON p.id = im.product_id
         WHERE p.slug = $1 AND p.deleted_at IS NULL ORDER BY im.position`,
        [slug],
      )
    ).rows.map((r) => r.key);
  const productCount = async () =>
    (await t.db.pool.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM products WHERE deleted_at IS NULL'))
      .rows[0]!.n;
  const wipeProducts = () =>
    t.db.pool.query(
      'TRUNCATE product_images, inventory, product_variants, product_options, products CASCADE',
    );

  it('export, wipe the products, import, export again: identical (images by object key)', async () => {
    await importText(file(row('quadro-a', 'QA-1', ''), row('quadro-b', 'QB-1', '')));
    const media = t.app.services.media;
    const [a, b] = await Promise.all(
      ['quadro-a', 'quadro-b'].map((s) => t.app.services.catalog.getProductBySlug(s)),
    );
    const a1 = await media.addProductImage(a!.id, await picture(100));
    const a2 = await media.addProductImage(a!.id, await picture(110, 'jpeg'));
    const b1 = await media.addProductImage(b!.id, await picture(120));
    const first = await exportText();
    expect(first).toContain(`${a1.key}|${a2.key}`);
    await wipeProducts();
    expect(await productCount()).toBe(0);
    const r = await importText(first);
    expect(r).toMatchObject({ written: true, productsCreated: 2, errors: [] });
    expect(await imagesOf('quadro-a')).toEqual([a1.key, a2.key]);
    expect(await imagesOf('quadro-b')).toEqual([b1.key]);
    expect(await exportText()).toBe(first);
    // Sizes come from the stored object (no download): what the upload filed.
    const { rows } = await t.db.pool.query<{ width: number; height: number; content_type: string }>(
      'SELECT width, height, content_type FROM product_images WHERE key = $1',
      [a2.key],
    );
    expect(rows[0]).toEqual({ width: 40, height: 30, content_type: 'image/jpeg' });
    // Importing it again changes nothing.
    expect(await importText(first)).toMatchObject({ productsCreated: 0, productsUpdated: 0 });

    // The list is the product's images, in order: reordered, one dropped (its object stays).
    const reordered = await importText(file(row('quadro-a', 'QA-1', a2.key)));
    expect(reordered).toMatchObject({ written: true, productsUpdated: 1, errors: [] });
    expect(await imagesOf('quadro-a')).toEqual([a2.key]);
    expect(await t.app.objects.head('productImages', a1.key)).toBeDefined();
    expect(await importText(file(row('quadro-a', 'QA-1', `${a1.key}|${a2.key}`)))).toMatchObject({
      productsUpdated: 1,
      errors: [],
    });
    expect(await imagesOf('quadro-a')).toEqual([a1.key, a2.key]);
    // A key under another product's images is filed here too; a key not in storage is a row error.
    await importText(file(row('quadro-b', 'QB-1', `${b1.key}|${a1.key}`)));
    expect(await imagesOf('quadro-b')).toEqual([b1.key, a1.key]);
    const missing = await importText(file(row('quadro-c', 'QC-1', 'products/nope/x.png')));
    expect(missing).toMatchObject({ written: false });
    expect(missing.errors).toEqual([
      { line: 2, field: 'images', reason: 'no stored image with this key: products/nope/x.png' },
    ]);
  });

  it('fetches an image URL, stores it like an upload and attaches it (served through its image URLs)', async () => {
    const text = file(row('poster-url', 'PU-1', `${web.base}/a.png|${web.base}/b.jpg`));
    const dry = await importText(text, { dryRun: true });
    expect(dry).toMatchObject({ written: false, errors: [], productsCreated: 1 });
    expect(web.hits.get('/a.png')).toBeUndefined(); // a dry run checks the syntax only
    const r = await importText(text);
    expect(r).toMatchObject({ written: true, productsCreated: 1, errors: [] });
    const keys = await imagesOf('poster-url');
    expect(keys).toHaveLength(2);
    expect(keys[0]).toMatch(/^products\/imported\/[0-9a-f]{64}\.png$/);
    expect(keys[1]).toMatch(/^products\/imported\/[0-9a-f]{64}\.jpg$/);
    const product = await t.app.services.catalog.getProductBySlug('poster-url');
    const res = await t.server.inject(product.images[0]!.urls.thumbnail.replace(/^https?:\/\/[^/]+/, ''));
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('image/png');
    // The export writes keys; importing the URLs again fetches them and changes nothing.
    expect(await exportText()).toContain(keys.join('|'));
    expect(await importText(text)).toMatchObject({ productsCreated: 0, productsUpdated: 0, errors: [] });
    expect(web.hits.get('/a.png')).toBe(2);
    // A redirect is followed (and its target checked like the URL).
    expect(await importText(file(row('poster-moved', 'PM-1', `${web.base}/moved.png`)))).toMatchObject({
      errors: [],
    });
    expect(await imagesOf('poster-moved')).toEqual([keys[0]]);
  });

  it('the same URL on several products is fetched once per import', async () => {
    const url = `${web.base}/shared.png`;
    const r = await importText(
      file(row('copo-1', 'CP-1', url), row('copo-2', 'CP-2', url), row('copo-3', 'CP-3', url)),
    );
    expect(r).toMatchObject({ written: true, productsCreated: 3, errors: [] });
    expect(web.hits.get('/shared.png')).toBe(1);
    const keys = await Promise.all(['copo-1', 'copo-2', 'copo-3'].map(imagesOf));
    expect(new Set(keys.flat()).size).toBe(1);
  });

  it('a URL answering 404, a non-image or too many bytes is a row error: nothing written unless partial', async () => {
    const before = await productCount();
    const text = file(
      row('vaso-ok', 'VO-1', `${web.base}/a.png`),
      row('vaso-404', 'V4-1', `${web.base}/missing.png`),
      row('vaso-html', 'VH-1', `${web.base}/text.png`),
      row('vaso-fake', 'VF-1', `${web.base}/fake.png`),
      row('vaso-big', 'VB-1', `${web.base}/big.png`),
      row('vaso-ftp', 'VT-1', 'ftp://example.com/a.png'),
    );
    // A file with other errors is not fetched from: its URLs are reported once the rest is good.
    const bad = await importText(text);
    expect(bad).toMatchObject({ written: false });
    expect(bad.errors).toEqual([
      {
        line: 7,
        field: 'images',
        reason: 'not an image key (products/...) or an http(s) URL: ftp://example.com/a.png',
      },
    ]);
    expect(web.hits.get('/missing.png')).toBeUndefined();
    const r = await importText(text.replace(/\n[^\n]*ftp:[^\n]*/, ''));
    expect(r.written).toBe(false);
    expect(r.errors).toEqual([
      { line: 3, field: 'images', reason: `${web.base}/missing.png: answered HTTP 404` },
      { line: 4, field: 'images', reason: `${web.base}/text.png: content type text/html is not accepted` },
      {
        line: 5,
        field: 'images',
        reason: `${web.base}/fake.png: The file is not a supported image (JPEG, PNG or WebP)`,
      },
      { line: 6, field: 'images', reason: `${web.base}/big.png: larger than ${MAX_BYTES} bytes` },
    ]);
    expect(await productCount()).toBe(before);
    const partial = await importText(text, { partial: true });
    expect(partial).toMatchObject({ written: true, productsCreated: 1 });
    expect(partial.errors).toHaveLength(5);
    expect(await imagesOf('vaso-ok')).toHaveLength(1);
  });

  it('refuses a URL to 127.0.0.1 without CATALOG_IMPORT_ALLOW_PRIVATE_URLS', async () => {
    const strict = await createTestApp();
    try {
      const hits = web.hits.get('/b.jpg') ?? 0;
      const r = await importText(file(row('privado', 'PR-1', `${web.base}/b.jpg`)), {}, strict);
      expect(r.written).toBe(false);
      expect(r.errors).toEqual([
        { line: 2, field: 'images', reason: `${web.base}/b.jpg: 127.0.0.1 is not a public address` },
      ]);
      expect(web.hits.get('/b.jpg') ?? 0).toBe(hits);
    } finally {
      await strict.close();
    }
  });
});
