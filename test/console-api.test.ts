/**
 * The admin routes the console reads: product listing with search, sort and keyset pages;
 * customer search and detail; order filters and the dashboard overview; the outbox backlog;
 * stock changes with a reason and the reconcile report; images uploaded straight to storage.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import sharp from 'sharp';
import { createTestApp, type TestApp } from './app.ts';
import { api, type Err } from './helpers/api.ts';

type Page<T> = { items: T[]; nextCursor: string | null };
type P = { id: string; name: string; basePrice: number; availableQuantity: number };

describe('admin routes of the console', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct, order } = api(() => t);

  it('lists products by name fragment (accents and case ignored), sorted, in keyset pages', async () => {
    const names = ['Café Torrado Zeta', 'café moído alfa', 'Cafeteira Beta', 'Chá Verde'];
    const ids: string[] = [];
    for (const [i, name] of names.entries()) ids.push(await newProduct({ name, basePrice: 1000 + i * 10 }));
    const byName = await call<Page<P>>('GET', '/admin/products?q=CAFE&sort=name&limit=2');
    expect(byName.status).toBe(200);
    expect(byName.body.items.map((p) => p.name)).toEqual(['café moído alfa', 'Café Torrado Zeta']);
    const next = await call<Page<P>>(
      'GET',
      `/admin/products?q=CAFE&sort=name&limit=2&cursor=${byName.body.nextCursor!}`,
    );
    expect(next.body.items.map((p) => p.name)).toEqual(['Cafeteira Beta']);
    expect(next.body.nextCursor).toBeNull();
    const byPrice = await call<Page<P>>('GET', '/admin/products?q=caf&sort=price');
    expect(byPrice.body.items.map((p) => p.basePrice)).toEqual([1000, 1010, 1020]);
    const newest = await call<Page<P>>('GET', '/admin/products?q=caf');
    expect(newest.body.items.map((p) => p.id)).toEqual([ids[2], ids[1], ids[0]]);
    // % and _ are literal; a cursor of another sort, or forged, is a 400.
    expect((await call<Page<P>>('GET', '/admin/products?q=%25')).body.items).toEqual([]);
    const forged = await call<Err>('GET', `/admin/products?sort=price&cursor=${byName.body.nextCursor!}`);
    expect(forged.status).toBe(400);
    expect(forged.body.error.code).toBe('invalid_request');
    expect((await call('GET', '/admin/products?sort=rating')).status).toBe(400);
    expect((await call('GET', '/admin/products', undefined, null)).status).toBe(401);
  });

  it('finds customers by email start or name part, and shows an erased one as erased', async () => {
    await customer('joana.prado@example.com');
    await customer('marcos@example.com');
    const found = await call<Page<{ id: string; email: string; anonymizedAt: string | null }>>(
      'GET',
      '/admin/customers?q=JOANA',
    );
    expect(found.body.items.map((c) => c.email)).toEqual(['joana.prado@example.com']);
    const id = found.body.items[0]!.id;
    expect((await call('POST', `/admin/customers/${id}/anonymize`)).status).toBe(200);
    const erased = await call<{ email: string; anonymizedAt: string | null }>(
      'GET',
      `/admin/customers/${id}`,
    );
    expect(erased.body.anonymizedAt).not.toBeNull();
    expect(erased.body.email).not.toContain('joana');
    expect((await call('GET', '/admin/customers/nope')).status).toBe(404);
    const all = await call<Page<unknown>>('GET', '/admin/customers?limit=1');
    expect(all.body.items).toHaveLength(1);
    expect(all.body.nextCursor).not.toBeNull();
  });

  it('filters orders by status, customer and time, and sums the day on the dashboard', async () => {
    const p = await newProduct({ name: 'Caneca', basePrice: 2500, availableQuantity: 100 });
    const token = await customer('filtro@example.com');
    const mine = await order([{ productId: p, quantity: 2 }], token);
    const guest = await order([{ productId: p, quantity: 1 }]);
    expect((await call('POST', `/admin/orders/${mine.body.id}/transition`, { to: 'confirmed' })).status).toBe(
      200,
    );
    // The detail names the moves the state machine allows from here, and only those.
    const detail = (id: string) => call<{ transitions: string[] }>('GET', `/admin/orders/${id}`);
    expect((await detail(guest.body.id)).body.transitions).toEqual(['confirmed', 'cancelled']);
    expect((await detail(mine.body.id)).body.transitions).toEqual(['shipped', 'cancelled']);
    await call('POST', `/admin/orders/${mine.body.id}/transition`, { to: 'shipped' });
    expect((await detail(mine.body.id)).body.transitions).toEqual(['delivered']);
    const me = await call<{ id: string }>('GET', '/store/me', undefined, token);
    const byCustomer = await call<Page<{ id: string }>>('GET', `/admin/orders?customerId=${me.body.id}`);
    expect(byCustomer.body.items.map((o) => o.id)).toEqual([mine.body.id]);
    const pending = await call<Page<{ id: string }>>('GET', '/admin/orders?status=pending&limit=100');
    expect(pending.body.items.map((o) => o.id)).toContain(guest.body.id);
    const future = new Date(Date.now() + 3600_000).toISOString();
    expect((await call<Page<unknown>>('GET', `/admin/orders?from=${future}`)).body.items).toEqual([]);
    expect((await call('GET', '/admin/orders?from=yesterday')).status).toBe(400);

    const o = await call<{
      timeZone: string;
      perMinute: { minute: string; orders: number }[];
      today: { orders: number; revenueCents: number };
      pending: number;
    }>('GET', '/admin/orders/overview');
    expect(o.status).toBe(200);
    expect(o.body.timeZone).toBe('America/Sao_Paulo');
    expect(o.body.perMinute).toHaveLength(60);
    expect(o.body.perMinute.reduce((n, m) => n + m.orders, 0)).toBeGreaterThanOrEqual(2);
    expect(o.body.today.revenueCents).toBeGreaterThanOrEqual(5000); // the shipped order's 2 x 25.00
    expect(o.body.pending).toBeGreaterThanOrEqual(1);
  });

  it('reports the outbox backlog', async () => {
    const r = await call<{ pending: number; oldestPendingSeconds: number }>('GET', '/admin/outbox');
    expect(r.status).toBe(200);
    expect(r.body.pending).toBeGreaterThanOrEqual(0);
    expect(r.body.oldestPendingSeconds).toBeGreaterThanOrEqual(0);
  });

  it('keeps the reason of a stock change in the audit log, and reports and repairs drift', async () => {
    const p = await newProduct({ name: 'Vaso', availableQuantity: 5 });
    const r = await call('PUT', `/admin/inventory/${p}`, {
      availableQuantity: 12,
      reason: 'recebimento NF 123',
    });
    expect(r.status).toBe(200);
    const audit = await call<{ items: { action: string; details: Record<string, unknown> | null }[] }>(
      'GET',
      '/admin/audit?limit=5',
    );
    const entry = audit.body.items.find((e) => e.action === 'PUT /admin/inventory/:productId');
    expect(entry?.details).toEqual({ availableQuantity: 12, reason: 'recebimento NF 123' });
    expect((await call('PUT', `/admin/inventory/${p}`, { availableQuantity: 1, reason: '' })).status).toBe(
      400,
    );

    await t.db.pool.query('UPDATE inventory SET reserved_quantity = 3 WHERE product_id = $1', [p]);
    const report = await call<{ total: number; drift: { productId: string }[]; fixed: boolean }>(
      'GET',
      '/admin/inventory/reconcile',
    );
    expect(report.body).toMatchObject({ fixed: false });
    expect(report.body.drift.map((d) => d.productId)).toContain(p);
    const fixed = await call<{ fixed: boolean }>('POST', '/admin/inventory/reconcile');
    expect(fixed.body.fixed).toBe(true);
    expect((await call<{ total: number }>('GET', '/admin/inventory/reconcile')).body.total).toBe(0);
  });

  it('files an image uploaded straight to storage, and refuses anything else', async () => {
    const p = await newProduct({ name: 'Quadro' });
    const png = await sharp({ create: { width: 800, height: 400, channels: 3, background: '#c33' } })
      .png()
      .toBuffer();
    const started = await call<{ key: string; upload: { url: string; fields: Record<string, string> } }>(
      'POST',
      `/admin/products/${p}/images/uploads`,
      { contentType: 'image/png', size: png.length },
    );
    expect(started.status).toBe(201);
    expect(started.body.key.startsWith(`incoming/${p}/`)).toBe(true);
    const form = new FormData();
    for (const [k, v] of Object.entries(started.body.upload.fields)) form.append(k, v);
    form.append('file', new Blob([png], { type: 'image/png' }), 'quadro.png');
    const req = new Request('http://x/', { method: 'POST', body: form });
    const sent = await t.server.inject({
      method: 'POST',
      url: new URL(started.body.upload.url).pathname,
      headers: { 'content-type': req.headers.get('content-type')! },
      payload: Buffer.from(await req.arrayBuffer()),
    });
    expect(sent.statusCode).toBeLessThan(300);
    const filed = await call<{ key: string; urls: { thumbnail: string } }>(
      'POST',
      `/admin/products/${p}/images/uploaded`,
      { key: started.body.key },
    );
    expect(filed.status).toBe(201);
    expect(filed.body.key.startsWith(`products/${p}/`)).toBe(true);
    const thumb = await t.server.inject({
      url: new URL(filed.body.urls.thumbnail, 'http://x').pathname + '?size=thumbnail',
    });
    expect(thumb.statusCode).toBe(200);
    expect((await sharp(thumb.rawPayload).metadata()).width).toBe(150);
    // The upload is gone once filed; another product's key, or a made-up one, is a 404.
    expect(
      (await call('POST', `/admin/products/${p}/images/uploaded`, { key: started.body.key })).status,
    ).toBe(404);
    const other = await newProduct({ name: 'Outro' });
    expect(
      (await call('POST', `/admin/products/${other}/images/uploaded`, { key: `incoming/${p}/x` })).status,
    ).toBe(404);
    const pdf = await call<Err>('POST', `/admin/products/${p}/images/uploads`, {
      contentType: 'application/pdf',
      size: 10,
    });
    expect(pdf.status).toBe(400);
    expect(pdf.body.error.code).toBe('unsupported_media_type');
    const huge = await call<Err>('POST', `/admin/products/${p}/images/uploads`, {
      contentType: 'image/png',
      size: 999_000_000,
    });
    expect(huge.status).toBe(413);
  });

  it('lists backups (none yet) for the console', async () => {
    const r = await call<{ items: unknown[] }>('GET', '/admin/backups');
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([]);
  });
});
