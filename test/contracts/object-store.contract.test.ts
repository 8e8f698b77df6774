/** The object store contract, on the local-directory adapter and on S3 (s3rver). */
import { Readable } from 'node:stream';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ObjectStore } from '../../src/platform/storage/object-store.ts';
import { LocalObjectStore } from '../../src/platform/storage/local.object-store.ts';
import { S3ObjectStore } from '../../src/platform/storage/s3.object-store.ts';
import { recordCommands, startS3, TEST_BUCKETS } from '../s3.ts';

const adapters: { name: string; make: () => Promise<{ store: ObjectStore; close: () => Promise<void> }> }[] =
  [
    {
      name: 'local directory',
      make: async () => {
        const dir = await mkdtemp(path.join(tmpdir(), 'shopflow-objects-'));
        const store = new LocalObjectStore({
          dir,
          baseUrl: 'http://127.0.0.1:1',
          secret: 'x'.repeat(32),
          buckets: TEST_BUCKETS,
        });
        return { store, close: () => rm(dir, { recursive: true, force: true }) };
      },
    },
    {
      name: 'S3 (s3rver)',
      make: async () => {
        const s3 = await startS3();
        const store = new S3ObjectStore({
          region: 'us-east-1',
          forcePathStyle: true,
          buckets: TEST_BUCKETS,
          client: s3.client,
        });
        return { store, close: () => s3.stop() };
      },
    },
  ];

for (const adapter of adapters) {
  describe(`object store contract: ${adapter.name}`, () => {
    let store: ObjectStore;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await adapter.make());
    });
    afterAll(async () => close?.());

    it('puts, heads, gets and deletes, keeping content type and metadata', async () => {
      const key = `invoices/${randomUUID()}.pdf`;
      const body = Buffer.from('%PDF-1.7 test');
      expect(
        await store.put('invoices', key, body, {
          contentType: 'application/pdf',
          metadata: { orderid: 'o1' },
        }),
      ).toBe(true);
      expect(await store.head('invoices', key)).toMatchObject({
        contentType: 'application/pdf',
        metadata: { orderid: 'o1' },
        size: body.length,
      });
      const got = await store.get('invoices', key);
      expect(got?.body.equals(body)).toBe(true);
      expect(got?.etag).toMatch(/^".+"$/);
      await store.delete('invoices', key);
      expect(await store.get('invoices', key)).toBeUndefined();
      expect(await store.head('invoices', key)).toBeUndefined();
    });

    it('lists the keys under a prefix, in key order, and nothing else', async () => {
      const prefix = `uploads/c/${randomUUID()}/`;
      const keys = [`${prefix}b/2.txt`, `${prefix}a/1.txt`, `${prefix}c.txt`];
      for (const key of keys)
        await store.put('userUploads', key, Buffer.from(key), { contentType: 'text/plain' });
      await store.put('userUploads', `uploads/c/${randomUUID()}/other.txt`, Buffer.from('x'), {
        contentType: 'text/plain',
      });
      const listed: { key: string; size: number }[] = [];
      for await (const o of store.list('userUploads', prefix)) listed.push(o);
      expect(listed).toEqual([...keys].sort().map((key) => ({ key, size: Buffer.byteLength(key) })));
      for (const key of keys) await store.delete('userUploads', key);
      const after: string[] = [];
      for await (const o of store.list('userUploads', prefix)) after.push(o.key);
      expect(after).toEqual([]);
    });

    it('uploads a stream without knowing its length, reads it back as a stream, and leaves nothing of a failed one', async () => {
      const key = `backups/${randomUUID()}/dump`;
      const chunk = randomBytes(256 * 1024);
      const source = Readable.from(
        (function* () {
          for (let i = 0; i < 12; i++) yield chunk;
        })(),
      );
      expect(await store.upload('backups', key, source, { contentType: 'application/octet-stream' })).toEqual(
        {
          size: 12 * chunk.length,
        },
      );
      const parts: Buffer[] = [];
      for await (const part of (await store.getStream('backups', key))!) parts.push(part as Buffer);
      expect(Buffer.concat(parts).equals(Buffer.concat(Array.from({ length: 12 }, () => chunk)))).toBe(true);
      expect(await store.getStream('backups', `${key}-none`)).toBeUndefined();

      const broken = `backups/${randomUUID()}/dump`;
      const failing = Readable.from(
        (async function* () {
          yield chunk;
          await Promise.resolve();
          throw new Error('pg_dump died');
        })(),
      );
      await expect(
        store.upload('backups', broken, failing, { contentType: 'application/octet-stream' }),
      ).rejects.toThrow();
      expect(await store.head('backups', broken)).toBeUndefined();
      await store.delete('backups', key);
    });

    it('writes once with ifAbsent', async () => {
      const key = `once/${randomUUID()}`;
      expect(
        await store.put('invoices', key, Buffer.from('first'), { contentType: 'text/plain', ifAbsent: true }),
      ).toBe(true);
      expect(
        await store.put('invoices', key, Buffer.from('second'), {
          contentType: 'text/plain',
          ifAbsent: true,
        }),
      ).toBe(false);
      expect((await store.get('invoices', key))?.body.toString()).toBe('first');
    });

    it('signs expiring download URLs and upload forms for one key with limits', async () => {
      const url = await store.signedGetUrl('invoices', 'invoices/x.pdf', 300);
      expect(url).toMatch(/invoices/);
      expect(url).toMatch(/[Ss]ignature=/);
      const up = await store.presignedUpload('userUploads', 'u/abc/file.png', {
        contentType: 'image/png',
        maxBytes: 1000,
        expiresSeconds: 300,
      });
      expect(up.method).toBe('POST');
      expect(Date.parse(up.expiresAt) - Date.now()).toBeLessThanOrEqual(300_000);
      expect(up.fields.key ?? up.fields.Key).toBe('u/abc/file.png');
      expect(up.fields['Content-Type']).toBe('image/png');
    });
  });
}

describe('S3 presigned POST policy', () => {
  it('carries the size range and the content type, and no encryption of its own', async () => {
    const s3 = await startS3();
    try {
      const store = new S3ObjectStore({
        region: 'us-east-1',
        forcePathStyle: true,
        buckets: TEST_BUCKETS,
        client: s3.client,
      });
      const up = await store.presignedUpload('userUploads', 'uploads/c1/a.png', {
        contentType: 'image/png',
        maxBytes: 5000,
        expiresSeconds: 600,
      });
      const policy = JSON.parse(Buffer.from(up.fields.Policy!, 'base64').toString()) as {
        conditions: unknown[];
        expiration: string;
      };
      expect(policy.conditions).toContainEqual(['content-length-range', 1, 5000]);
      expect(policy.conditions).toContainEqual(['eq', '$Content-Type', 'image/png']);
      // No encryption of its own: the bucket's default key (KMS on AWS) encrypts the upload.
      expect(JSON.stringify(policy.conditions)).not.toContain('server-side-encryption');
      expect(Object.keys(up.fields)).not.toContain('x-amz-server-side-encryption');
      expect(policy.conditions).toContainEqual({ key: 'uploads/c1/a.png' });
      // s3rver accepts the form (it does not enforce conditions; S3 does).
      const form = new FormData();
      for (const [k, v] of Object.entries(up.fields)) form.append(k, v);
      form.append('file', new Blob([Buffer.from('not really a png')]));
      expect((await fetch(up.url, { method: 'POST', body: form })).status).toBeLessThan(300);
      expect((await store.head('userUploads', 'uploads/c1/a.png'))?.size).toBe(16);
    } finally {
      await s3.stop();
    }
  });
});

describe("S3 writes and the buckets' KMS default", () => {
  it('put, streamed upload and the Glacier copy send no ServerSideEncryption (it would override the bucket key)', async () => {
    const s3 = await startS3();
    const sent = recordCommands(s3.client);
    try {
      const store = new S3ObjectStore({
        region: 'us-east-1',
        forcePathStyle: true,
        buckets: TEST_BUCKETS,
        client: s3.client,
      });
      await store.put('invoices', 'a.pdf', Buffer.from('pdf'), { contentType: 'application/pdf' });
      await store.upload('backups', 'b.bin', Readable.from([randomBytes(1024)]), {
        contentType: 'application/octet-stream',
      });
      await store.put('archive', 'c.json', Buffer.from('{}'), { contentType: 'application/json' });
      // s3rver may refuse the storage class; what matters is what the SDK was asked to send.
      await store.toColdStorage('archive', 'c.json').catch(() => undefined);
      const writes = sent.filter((c) =>
        /^(PutObject|CopyObject|CreateMultipartUpload)Command$/.test(c.command),
      );
      expect(writes.map((c) => c.command)).toEqual(
        expect.arrayContaining(['PutObjectCommand', 'CopyObjectCommand']),
      );
      for (const w of writes) expect(w.input, w.command).not.toHaveProperty('ServerSideEncryption');
    } finally {
      await s3.stop();
    }
  });
});
