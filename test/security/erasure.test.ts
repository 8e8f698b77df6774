/**
 * Attack (issue 26, item 5): erasure that leaves copies. The invoice of an order confirmed and
 * later cancelled (or refunded), and of an archived order, kept the name and email; archive
 * objects kept the customer's id and the text of customizations; payment attempts kept boleto
 * vouchers (name, CPF, address) in `next_action`; a versioned bucket keeps every earlier version
 * of a re-rendered invoice or a deleted upload. Replayed on the local store and on S3 (s3rver):
 * after the erasure, no stored object holds the name, email, phone or CPF. s3rver keeps no
 * versions, so the version clean-up is shown by what the SDK sends to a recording endpoint that
 * plays a versioned bucket.
 */
import { randomInt, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCb } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { uploadPrefix } from '../../src/modules/uploads/uploads.service.ts';
import { purgeVersions, type BucketName } from '../../src/platform/storage/object-store.ts';
import { S3ObjectStore } from '../../src/platform/storage/s3.object-store.ts';
import { createTestApp, type TestApp } from '../app.ts';
import { api } from '../helpers/api.ts';
import { eventually } from '../helpers/eventually.ts';
import { pdfText } from '../helpers/pdf.ts';
import { startS3VersionsEndpoint } from '../helpers/s3-versions-endpoint.ts';
import { s3Env, startS3, TEST_BUCKETS, type TestS3 } from '../s3.ts';

const gunzip = promisify(gunzipCb);
const BUCKETS: BucketName[] = ['productImages', 'userUploads', 'invoices', 'archive', 'backups'];

describe.each(['local', 's3'] as const)('erasure on the %s object store', (driver) => {
  let t: TestApp;
  let s3: TestS3 | undefined;
  const { call, person: register } = api(() => t);

  beforeAll(async () => {
    const env: Record<string, string> = { ARCHIVE_ORDERS_AFTER_DAYS: '1' };
    if (driver === 's3') {
      s3 = await startS3();
      Object.assign(env, s3Env(s3.endpoint));
    }
    t = await createTestApp(env);
    await t.app.worker.start();
  });
  afterAll(async () => {
    await t?.close();
    await s3?.stop();
  });

  /** Every stored object as text: PDFs by their shown text, gzipped archive lines inflated, metadata too. */
  async function everyObject(): Promise<string> {
    const texts: string[] = [];
    for (const bucket of BUCKETS)
      for await (const o of t.app.objects.list(bucket, '')) {
        const got = await t.app.objects.get(bucket, o.key);
        if (!got) continue;
        const body = o.key.endsWith('.gz') ? await gunzip(got.body) : got.body;
        texts.push(o.key, JSON.stringify(got.metadata));
        texts.push(got.contentType === 'application/pdf' ? pdfText(body) : body.toString('utf8'));
      }
    return texts.join('\n');
  }

  it('leaves no object holding the name, email, phone or CPF (cancelled and archived orders included)', async () => {
    const tag = randomUUID().slice(0, 8);
    const digits = () => String(randomInt(1000, 9999));
    const person = {
      email: `helena.${tag}@example.com`,
      name: `Helena Prado ${tag}`,
      phone: `+55 21 9${digits()}-${digits()}`,
      cpf: `${digits().slice(0, 3)}.${digits().slice(0, 3)}.${digits().slice(0, 3)}-${digits().slice(0, 2)}`,
    };
    const secrets = [person.email, person.name, person.phone, person.cpf];
    const { token, customerId } = await register({
      email: person.email,
      name: person.name,
      phone: person.phone,
    });
    const productId = (
      await call<{ id: string }>('POST', '/admin/products', {
        name: 'Quadro Personalizado',
        basePrice: 8990,
        availableQuantity: 20,
      })
    ).body.id;
    const paidOrder = async () => {
      const placed = await call<{ id: string }>(
        'POST',
        '/store/orders',
        { items: [{ productId, quantity: 1, customization: { dedication: `Para ${person.name}` } }] },
        token,
      );
      expect(placed.status).toBe(201);
      const id = placed.body.id;
      expect(
        (await call('POST', `/store/orders/${id}/payments`, { paymentMethod: 'tok_visa' }, token)).status,
      ).toBe(201);
      // Its invoice is stored (s3rver answers a PUT before the file is written, so its bytes are
      // not read here; the scan after the erasure reads every object).
      await eventually(async () => {
        expect(await t.app.objects.head('invoices', `invoices/${id}.pdf`)).toBeDefined();
      });
      return id;
    };

    // Confirmed (invoiced), then cancelled: the invoice stays.
    const cancelled = await paidOrder();
    expect((await call('POST', `/admin/orders/${cancelled}/transition`, { to: 'cancelled' })).status).toBe(
      200,
    );
    // The provider's boleto voucher kept on an attempt names the payer and their CPF.
    await t.db.pool.query(
      `UPDATE payment_attempts SET next_action = jsonb_build_object('type', 'boleto', 'payer', $2::text, 'cpf', $3::text)
       WHERE order_id = $1`,
      [cancelled, person.name, person.cpf],
    );
    // Delivered, old, archived: its lines go to the archive bucket, its invoice stays.
    const archived = await paidOrder();
    for (const to of ['shipped', 'delivered'])
      expect((await call('POST', `/admin/orders/${archived}/transition`, { to })).status).toBe(200);
    await t.db.pool.query("UPDATE orders SET created_at = NOW() - INTERVAL '3 days' WHERE id = $1", [
      archived,
    ]);
    const run = await t.app.jobs.run('archive-orders', { trigger: 'cli' });
    expect(run.status).toBe('succeeded');
    expect(
      (await t.db.pool.query('SELECT 1 FROM order_archive WHERE order_id = $1', [archived])).rowCount,
    ).toBe(1);
    // An upload asked for under the person's name (its record keeps the file name), and a file.
    expect(
      (
        await call(
          'POST',
          '/store/uploads',
          { fileName: `${person.name}.png`, contentType: 'image/png', size: 10 },
          token,
        )
      ).status,
    ).toBe(201);
    await t.app.objects.put(
      'userUploads',
      `${uploadPrefix({ customerId })}${randomUUID()}/foto.txt`,
      Buffer.from(`foto de ${person.name}, CPF ${person.cpf}`),
      { contentType: 'text/plain' },
    );
    expect(await everyObject()).toContain(person.name);

    expect((await call('POST', `/admin/customers/${customerId}/anonymize`)).status).toBe(200);

    // The consumer repeats the clean-up; both have run once nothing is left and the cancelled
    // order's invoice is there, rendered without the customer (waited for too: under load the
    // worker may store it only after the erasure, and a check outside this wait found none).
    await eventually(
      async () => {
        const after = await everyObject();
        for (const s of secrets) expect(after, s).not.toContain(s);
        const invoice = await t.app.objects.get('invoices', `invoices/${cancelled}.pdf`);
        expect(invoice && pdfText(invoice.body)).toContain('Cliente convidado');
      },
      { timeoutMs: 20_000 },
    );
    // The archived order's invoice is gone (its lines are in cold storage).
    expect(await t.app.objects.head('invoices', `invoices/${archived}.pdf`)).toBeUndefined();
    // No payment instruction is kept for the erased payer.
    const { rows } = await t.db.pool.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM payment_attempts WHERE order_id = $1 AND next_action IS NOT NULL',
      [cancelled],
    );
    expect(rows[0]!.n).toBe(0);
    expect(
      (await t.db.pool.query('SELECT 1 FROM upload_records WHERE key LIKE $1', [`%${tag}%`])).rowCount,
    ).toBe(0);
    // The archive line of the erased customer names no customer, and its sealed part cannot be opened.
    expect(
      (await t.db.pool.query('SELECT 1 FROM archive_customer_keys WHERE customer_id = $1', [customerId]))
        .rowCount,
    ).toBe(0);
    expect(await everyObject()).not.toContain(customerId);
  });
});

describe('version clean-up on a versioned bucket (recording S3 endpoint)', () => {
  it('lists every version and deletes each earlier one by version id, through every page', async () => {
    const endpoint = await startS3VersionsEndpoint([
      { key: 'invoices/o1.pdf', versionId: 'v3', isLatest: true },
      { key: 'invoices/o1.pdf', versionId: 'v1', isLatest: false },
      { key: 'invoices/o1.pdf', versionId: 'v2', isLatest: false },
      { key: 'invoices/o10.pdf', versionId: 'x1', isLatest: true },
      { key: 'uploads/c/abc/1/a.png', versionId: 'u1', isLatest: false },
      { key: 'uploads/c/abc/1/a.png', versionId: 'u2', isLatest: true, deleteMarker: true },
      { key: 'uploads/c/abc/2/b.png', versionId: 'u3', isLatest: true },
      { key: 'uploads/c/other/c.png', versionId: 'u4', isLatest: true },
    ]);
    const store = new S3ObjectStore({
      endpoint: endpoint.url,
      region: 'us-east-1',
      forcePathStyle: true,
      buckets: TEST_BUCKETS,
    });
    try {
      process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
      process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
      // A re-rendered invoice: every version but the current one goes, of that key only.
      expect(
        await purgeVersions(store, 'invoices', 'invoices/o1.pdf', { keepLatest: true, exactKey: true }),
      ).toBe(2);
      // An erased customer's uploads: every version and delete marker under their prefix.
      expect(await purgeVersions(store, 'userUploads', 'uploads/c/abc/', { keepLatest: false })).toBe(3);
      const deletes = endpoint.requests
        .filter((r) => r.method === 'DELETE')
        .map((r) => `${r.bucket}/${r.key}@${r.query.versionId}`);
      expect(deletes).toEqual([
        `${TEST_BUCKETS.invoices}/invoices/o1.pdf@v1`,
        `${TEST_BUCKETS.invoices}/invoices/o1.pdf@v2`,
        `${TEST_BUCKETS.userUploads}/uploads/c/abc/1/a.png@u1`,
        `${TEST_BUCKETS.userUploads}/uploads/c/abc/1/a.png@u2`,
        `${TEST_BUCKETS.userUploads}/uploads/c/abc/2/b.png@u3`,
      ]);
      // The listings were ListObjectVersions, paged with both markers (two entries a page here).
      const lists = endpoint.requests.filter((r) => r.method === 'GET');
      expect(lists.every((r) => 'versions' in r.query)).toBe(true);
      expect(lists.some((r) => r.query['key-marker'] && r.query['version-id-marker'])).toBe(true);
      expect(endpoint.versions.map((v) => `${v.key}@${v.versionId}`).sort()).toEqual([
        'invoices/o1.pdf@v3',
        'invoices/o10.pdf@x1',
        'uploads/c/other/c.png@u4',
      ]);
    } finally {
      store.client.destroy();
      await endpoint.close();
    }
  });
});
