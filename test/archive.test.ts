/**
 * Order archival: final orders past the retention move to the archive bucket as compressed JSON
 * Lines that decode to the same rows, the index finds them, statistics do not move, a second run
 * does nothing, an interrupted run loses and duplicates nothing, and one order comes back intact.
 */
import { randomUUID } from 'node:crypto';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from './app.ts';
import { api } from './helpers/api.ts';
import { shopflow } from './helpers/cli.ts';
import { ArchiveService } from '../src/modules/archive/archive.service.ts';
import type { ObjectStore } from '../src/platform/storage/object-store.ts';
import { S3ObjectStore } from '../src/platform/storage/s3.object-store.ts';
import { S3Client } from '@aws-sdk/client-s3';
import { startS3, TEST_BUCKETS } from './s3.ts';

describe('order archival', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t?.close());
  const { call, customer, newProduct } = api(() => t);

  /** The rows of one order in the three tables, as the database holds them. */
  const snapshot = async (id: string) => {
    const q = async (sql: string) => (await t.db.pool.query<{ r: unknown }>(sql, [id])).rows.map((x) => x.r);
    return {
      order: await q('SELECT row_to_json(o) AS r FROM orders o WHERE id = $1'),
      items: await q('SELECT row_to_json(i) AS r FROM order_items i WHERE order_id = $1 ORDER BY id'),
      payments: await q('SELECT row_to_json(p) AS r FROM payment_attempts p WHERE order_id = $1 ORDER BY id'),
    };
  };
  const sold = async (productId: string) => {
    await t.app.services.stats.refresh();
    return (
      await t.db.pool.query<{ total_sold: number; total_orders: number }>(
        'SELECT total_sold, total_orders FROM product_stats WHERE product_id = $1',
        [productId],
      )
    ).rows[0];
  };

  /** An order by `token` moved to `status`, dated `days` ago. */
  async function orderAged(
    token: string,
    productId: string,
    status: 'delivered' | 'cancelled' | 'pending',
    days: number,
  ) {
    const placed = await call<{ id: string }>(
      'POST',
      '/store/orders',
      { items: [{ productId, quantity: 2, customization: { gift: true } }] },
      token,
    );
    const id = placed.body.id;
    if (status === 'delivered') {
      expect(
        (await call('POST', `/store/orders/${id}/payments`, { paymentMethod: 'tok_ok' }, token)).status,
      ).toBe(201);
      for (const to of ['shipped', 'delivered'])
        expect((await call('POST', `/admin/orders/${id}/transition`, { to })).status).toBe(200);
    } else if (status === 'cancelled') {
      await call('POST', `/store/orders/${id}/payments`, { paymentMethod: 'tok_fail_card_declined' }, token);
      expect((await call('POST', `/admin/orders/${id}/transition`, { to: 'cancelled' })).status).toBe(200);
    }
    await t.db.pool.query('UPDATE orders SET created_at = NOW() - make_interval(days => $2) WHERE id = $1', [
      id,
      days,
    ]);
    return id;
  }

  it('archives old final orders only, verified and indexed, keeps statistics, does nothing twice, restores one intact', async () => {
    const token = await customer(`arquivo-${randomUUID().slice(0, 8)}@example.com`);
    const customerId = (await call<{ id: string }>('GET', '/store/me', undefined, token)).body.id;
    const productId = await newProduct({ availableQuantity: 100 });
    const oldDelivered = await orderAged(token, productId, 'delivered', 3 * 365);
    const oldCancelled = await orderAged(token, productId, 'cancelled', 3 * 365);
    const oldOpen = await orderAged(token, productId, 'pending', 3 * 365);
    const young = await orderAged(token, productId, 'delivered', 30);
    const before = { delivered: await snapshot(oldDelivered), cancelled: await snapshot(oldCancelled) };
    expect(before.cancelled.payments).toHaveLength(1);
    const stats = await sold(productId);

    const run = await shopflow(['jobs', 'run', 'archive-orders'], {
      DATABASE_URL: t.db.url,
      SHOPFLOW_DATA_DIR: t.app.config.dataDir,
    });
    expect(run.stdout, run.stderr).toMatch(/archive-orders: succeeded .*"archived":2/);
    expect(run.stdout).toContain('"objects":1');

    for (const id of [oldDelivered, oldCancelled]) expect((await snapshot(id)).order).toEqual([]);
    for (const id of [oldOpen, young]) expect((await snapshot(id)).order).toHaveLength(1);
    const { rows: index } = await t.db.pool.query<{
      order_id: string;
      customer_id: string;
      total_amount: number;
      object_key: string;
    }>('SELECT order_id, customer_id, total_amount, object_key FROM order_archive ORDER BY order_id');
    expect(index.map((r) => r.order_id).sort()).toEqual([oldDelivered, oldCancelled].sort());
    expect(index.every((r) => r.customer_id === customerId)).toBe(true);
    // The object decodes to the same rows.
    const object = await t.app.objects.get('archive', index[0]!.object_key);
    const lines = gunzipSync(object!.body)
      .toString('utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { order: { id: string }; items: unknown[]; payments: unknown[] });
    expect(lines.map((l) => l.order.id).sort()).toEqual([oldDelivered, oldCancelled].sort());
    const line = lines.find((l) => l.order.id === oldCancelled)!;
    expect(line.items).toHaveLength(1);
    expect(line.payments).toHaveLength(1);
    // Statistics count archived orders as before; the customer still finds them.
    expect(await sold(productId)).toEqual(stats);
    const mine = await call<{ items: { id: string }[] }>('GET', '/store/orders/archived', undefined, token);
    expect(mine.body.items.map((o) => o.id).sort()).toEqual([oldDelivered, oldCancelled].sort());

    // A second run finds nothing to do.
    const again = await shopflow(['jobs', 'run', 'archive-orders'], {
      DATABASE_URL: t.db.url,
      SHOPFLOW_DATA_DIR: t.app.config.dataDir,
    });
    expect(again.stdout).toContain('"archived":0');

    // One comes back intact, and statistics still agree.
    const restored = await shopflow(['retention', 'restore-order', oldDelivered], {
      DATABASE_URL: t.db.url,
      SHOPFLOW_DATA_DIR: t.app.config.dataDir,
    });
    expect(restored.stdout, restored.stderr).toContain('restored');
    expect(await snapshot(oldDelivered)).toEqual(before.delivered);
    expect(await sold(productId)).toEqual(stats);
    expect(
      (await t.db.pool.query('SELECT 1 FROM order_archive WHERE order_id = $1', [oldDelivered])).rowCount,
    ).toBe(0);
    expect(
      (await shopflow(['retention', 'restore-order', oldDelivered], { DATABASE_URL: t.db.url })).stdout,
    ).toContain('not archived');
  });

  it('loses and duplicates nothing when a run is cut off after the object is written, and reruns', async () => {
    const token = await customer(`corte-${randomUUID().slice(0, 8)}@example.com`);
    const productId = await newProduct({ availableQuantity: 100 });
    const ids = [];
    for (let i = 0; i < 3; i++) ids.push(await orderAged(token, productId, 'delivered', 1000));
    // The process "dies" right after writing and verifying the object (before the transaction).
    const failing: ObjectStore = Object.create(t.app.objects, {
      toColdStorage: { value: () => Promise.reject(new Error('killed')) },
    }) as ObjectStore;
    const cut = new ArchiveService({
      db: t.app.db,
      objects: failing,
      afterDays: 730,
      orders: t.app.services.orders,
      payments: t.app.services.payments,
    });
    await expect(cut.archiveBatch(500)).rejects.toThrow('killed');
    for (const id of ids) expect((await snapshot(id)).order).toHaveLength(1);
    const whole = new ArchiveService({
      db: t.app.db,
      objects: t.app.objects,
      afterDays: 730,
      orders: t.app.services.orders,
      payments: t.app.services.payments,
    });
    // (The order restored by the previous test is old and delivered too: it goes again.)
    expect((await whole.archiveBatch(500)).archived).toBeGreaterThanOrEqual(3);
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM order_archive WHERE order_id = ANY($1::uuid[])',
      [ids],
    );
    expect(rows[0]!.n).toBe(3);
    expect((await whole.archiveBatch(500)).archived).toBe(0);
  });

  it('on S3: writes STANDARD, verifies, moves the object to GLACIER; a restore is requested first, then done', async () => {
    const s3 = await startS3();
    try {
      const sent: { command: string; input: Record<string, unknown> }[] = [];
      let glacier = false;
      let restored = false;
      const client = new S3Client({
        region: 'us-east-1',
        endpoint: s3.endpoint,
        forcePathStyle: true,
        credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      });
      // Records what the SDK sends, and plays Glacier's part where s3rver has none: the storage class in
      // HEAD answers and the acceptance of a restore request.
      client.middlewareStack.add(
        (next, context) => async (args) => {
          sent.push({ command: context.commandName!, input: args.input as Record<string, unknown> });
          // s3rver does not implement RestoreObject (501): answer as S3 does when it accepts one.
          if (context.commandName === 'RestoreObjectCommand')
            return { output: { $metadata: { httpStatusCode: 202 } }, response: {} };
          const out = await next(args);
          if (context.commandName === 'HeadObjectCommand' && glacier) {
            const o = out.output as { StorageClass?: string; Restore?: string };
            o.StorageClass = 'GLACIER';
            if (restored) o.Restore = 'ongoing-request="false", expiry-date="Fri, 01 Jan 2100 00:00:00 GMT"';
          }
          return out;
        },
        { step: 'initialize', name: 'recorder' },
      );
      const objects = new S3ObjectStore({
        region: 'us-east-1',
        forcePathStyle: true,
        buckets: TEST_BUCKETS,
        client,
      });
      const token = await customer(`glacier-${randomUUID().slice(0, 8)}@example.com`);
      const productId = await newProduct({ availableQuantity: 10 });
      const id = await orderAged(token, productId, 'delivered', 900);
      const before = await snapshot(id);
      const archive = new ArchiveService({
        db: t.app.db,
        objects,
        afterDays: 730,
        orders: t.app.services.orders,
        payments: t.app.services.payments,
      });
      expect((await archive.archiveBatch(500)).archived).toBeGreaterThanOrEqual(1);
      const names = sent.map((c) => c.command);
      expect(names.indexOf('PutObjectCommand')).toBeLessThan(names.indexOf('GetObjectCommand'));
      expect(names.indexOf('GetObjectCommand')).toBeLessThan(names.indexOf('CopyObjectCommand'));
      expect(sent.find((c) => c.command === 'CopyObjectCommand')!.input).toMatchObject({
        StorageClass: 'GLACIER',
        MetadataDirective: 'REPLACE',
        Bucket: TEST_BUCKETS.archive,
      });
      glacier = true;
      const first = await archive.restoreOrder(id);
      expect(first.status).toBe('restore_requested');
      expect(sent.find((c) => c.command === 'RestoreObjectCommand')!.input).toMatchObject({
        RestoreRequest: { Days: 7, GlacierJobParameters: { Tier: 'Standard' } },
      });
      expect((await snapshot(id)).order).toEqual([]);
      restored = true;
      expect((await archive.restoreOrder(id)).status).toBe('restored');
      expect(await snapshot(id)).toEqual(before);
    } finally {
      await s3.stop();
    }
  });
});
