/**
 * Objects in a local directory, one folder per bucket, metadata in a sidecar file. Download and
 * upload URLs point at the app itself (`/storage/...`), signed with HMAC-SHA256 and expiring;
 * the routes in modules/uploads/local-storage.routes.ts check them and, for uploads, enforce size and content
 * type on the actual bytes.
 */
import { createHash, createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, readdir, readFile, rm, stat, writeFile, rename } from 'node:fs/promises';
import { Transform, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import path from 'node:path';
import {
  isSafeKey,
  type BucketName,
  type ObjectStore,
  type ObjectVersion,
  type PresignedUpload,
  type PutOptions,
  type StoredObject,
} from './object-store.ts';

interface Meta {
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
  size: number;
}

export class LocalObjectStore implements ObjectStore {
  readonly driver = 'local' as const;

  constructor(
    private readonly options: {
      dir: string;
      baseUrl: string;
      secret: string;
      buckets: Record<BucketName, string>;
    },
  ) {}

  private file(bucket: BucketName, key: string): string {
    if (!isSafeKey(key)) throw new Error('unsafe object key');
    return path.join(this.options.dir, this.options.buckets[bucket], key);
  }

  async put(bucket: BucketName, key: string, body: Buffer, options: PutOptions): Promise<boolean> {
    const file = this.file(bucket, key);
    if (options.ifAbsent && (await this.head(bucket, key))) return false;
    await mkdir(path.dirname(file), { recursive: true });
    const meta: Meta = {
      contentType: options.contentType,
      metadata: options.metadata ?? {},
      etag: `"${createHash('md5').update(body).digest('hex')}"`,
      size: body.length,
    };
    // Write then rename: a reader never sees half an object.
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    await writeFile(tmp, body, { mode: 0o600 });
    await writeFile(`${file}.meta.json`, JSON.stringify(meta), { mode: 0o600 });
    await rename(tmp, file);
    return true;
  }

  /**
   * Streams `body` into the object, never holding it whole in memory: at most `maxBytes` are
   * written (beyond that the write fails with `ObjectTooLarge` and nothing is stored), and
   * `accept` sees the first bytes (a type check) before the object becomes visible.
   */
  async putStream(
    bucket: BucketName,
    key: string,
    body: Readable,
    options: PutOptions & { maxBytes: number; accept?: (head: Buffer) => boolean },
  ): Promise<{ size: number }> {
    const file = this.file(bucket, key);
    await mkdir(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
    const md5 = createHash('md5');
    let size = 0;
    let head = Buffer.alloc(0);
    const meter = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        size += chunk.length;
        if (size > options.maxBytes) return done(new ObjectTooLarge(options.maxBytes));
        if (head.length < 16) head = Buffer.concat([head, chunk.subarray(0, 16 - head.length)]);
        md5.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, meter, createWriteStream(tmp, { mode: 0o600 }));
      if (options.accept && !options.accept(head)) throw new ObjectRejected();
      const meta: Meta = {
        contentType: options.contentType,
        metadata: options.metadata ?? {},
        etag: `"${md5.digest('hex')}"`,
        size,
      };
      await writeFile(`${file}.meta.json`, JSON.stringify(meta), { mode: 0o600 });
      await rename(tmp, file);
      return { size };
    } catch (error) {
      await rm(tmp, { force: true });
      throw error;
    }
  }

  upload(bucket: BucketName, key: string, body: Readable, options: PutOptions): Promise<{ size: number }> {
    return this.putStream(bucket, key, body, { ...options, maxBytes: Number.MAX_SAFE_INTEGER });
  }

  async getStream(bucket: BucketName, key: string): Promise<Readable | undefined> {
    if (!(await this.head(bucket, key))) return undefined;
    return createReadStream(this.file(bucket, key));
  }

  async head(bucket: BucketName, key: string): Promise<Omit<StoredObject, 'body'> | undefined> {
    try {
      return JSON.parse(await readFile(`${this.file(bucket, key)}.meta.json`, 'utf8')) as Meta;
    } catch {
      return undefined;
    }
  }

  async get(bucket: BucketName, key: string): Promise<StoredObject | undefined> {
    const meta = await this.head(bucket, key);
    if (!meta) return undefined;
    try {
      return { ...meta, body: await readFile(this.file(bucket, key)) };
    } catch {
      return undefined;
    }
  }

  /** The local driver has no cold storage: objects stay readable. */
  toColdStorage(): Promise<void> {
    return Promise.resolve();
  }

  async coldState(bucket: BucketName, key: string): Promise<'ready' | 'missing'> {
    return (await this.head(bucket, key)) ? 'ready' : 'missing';
  }

  requestRestore(): Promise<void> {
    return Promise.resolve();
  }

  async *list(bucket: BucketName, prefix: string): AsyncIterable<{ key: string; size: number }> {
    const root = path.join(this.options.dir, this.options.buckets[bucket]);
    const names = await readdir(root, { recursive: true }).catch(() => [] as string[]);
    const keys = names
      .map((n) => n.split(path.sep).join('/'))
      .filter((k) => k.startsWith(prefix) && !k.endsWith('.meta.json') && isSafeKey(k))
      .sort();
    for (const key of keys) {
      const s = await stat(path.join(root, key)).catch(() => undefined);
      if (s?.isFile()) yield { key, size: s.size };
    }
  }

  async delete(bucket: BucketName, key: string): Promise<void> {
    await rm(this.file(bucket, key), { force: true });
    await rm(`${this.file(bucket, key)}.meta.json`, { force: true });
  }

  /** The directory keeps no versions: each object is its only version, `null`, as in an unversioned bucket. */
  async *listVersions(bucket: BucketName, prefix: string): AsyncIterable<ObjectVersion> {
    for await (const o of this.list(bucket, prefix))
      yield { key: o.key, versionId: 'null', isLatest: true, deleteMarker: false };
  }

  async deleteVersion(bucket: BucketName, key: string, versionId: string): Promise<void> {
    if (versionId !== 'null') throw new Error(`the local store keeps no version ${versionId} of ${key}`);
    await this.delete(bucket, key);
  }

  /** The signature over everything a URL grants. */
  sign(parts: (string | number)[]): string {
    return createHmac('sha256', this.options.secret).update(parts.join('\n')).digest('base64url');
  }

  verify(parts: (string | number)[], signature: string): boolean {
    const expected = Buffer.from(this.sign(parts));
    const given = Buffer.from(signature);
    return expected.length === given.length && timingSafeEqual(expected, given);
  }

  signedGetUrl(bucket: BucketName, key: string, expiresSeconds: number): Promise<string> {
    const expires = Math.floor(Date.now() / 1000) + expiresSeconds;
    const sig = this.sign(['GET', bucket, key, expires]);
    return Promise.resolve(
      `${this.options.baseUrl}/storage/${bucket}/${key}?expires=${expires}&signature=${sig}`,
    );
  }

  presignedUpload(
    bucket: BucketName,
    key: string,
    limits: { contentType: string; maxBytes: number; expiresSeconds: number },
  ): Promise<PresignedUpload> {
    const expires = Math.floor(Date.now() / 1000) + limits.expiresSeconds;
    const fields = {
      bucket,
      key,
      'Content-Type': limits.contentType,
      maxBytes: String(limits.maxBytes),
      expires: String(expires),
    };
    const signature = this.sign(['POST', bucket, key, limits.contentType, limits.maxBytes, expires]);
    return Promise.resolve({
      method: 'POST',
      url: `${this.options.baseUrl}/storage/upload`,
      fields: { ...fields, signature },
      expiresAt: new Date(expires * 1000).toISOString(),
    });
  }

  async ping(): Promise<void> {
    await mkdir(this.options.dir, { recursive: true });
    await stat(this.options.dir);
  }
}

/** The streamed body went past the size allowed. */
export class ObjectTooLarge extends Error {
  constructor(readonly maxBytes: number) {
    super(`the object is larger than ${maxBytes} bytes`);
    this.name = 'ObjectTooLarge';
  }
}

/** The streamed body's first bytes were refused by the caller's check. */
export class ObjectRejected extends Error {
  constructor() {
    super('the object was refused by its content check');
    this.name = 'ObjectRejected';
  }
}
