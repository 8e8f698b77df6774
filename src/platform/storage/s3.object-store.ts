/**
 * S3 through AWS SDK v3 (credentials from the standard AWS chain). Writes name no encryption: each
 * bucket's default (the data key in KMS on AWS, see infra/lib/storage.ts) encrypts every object, and
 * a per-request AES256 would override that key. Uploads are presigned POSTs whose policy carries the size range, the exact
 * content type and the key, so S3 itself refuses anything else.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  CopyObjectCommand,
  HeadObjectCommand,
  RestoreObjectCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { Transform, type Readable } from 'node:stream';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError } from '../errors.ts';
import type {
  BucketName,
  ObjectStore,
  ObjectVersion,
  PresignedUpload,
  PutOptions,
  StoredObject,
} from './object-store.ts';

const notFound = (e: unknown) =>
  e instanceof S3ServiceException &&
  (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey');

/** The store does not implement the request (s3rver has no object versions). */
const unsupported = (e: unknown) =>
  e instanceof S3ServiceException &&
  (e.name === 'NotImplemented' ||
    e.name === 'MethodNotAllowed' ||
    e.$metadata.httpStatusCode === 405 ||
    e.$metadata.httpStatusCode === 501);

/**
 * S3 answering a request it understood (a 4xx: not found, precondition failed) is kept as it is;
 * anything else (no connection, a timeout, a 5xx after the SDK's retries) means the storage is
 * away, and callers see a 503 `dependency_unavailable` for object storage, never a 500.
 */
const asUnavailable = (e: unknown): unknown => {
  const status = e instanceof S3ServiceException ? e.$metadata.httpStatusCode : undefined;
  return status !== undefined && status < 500 ? e : AppError.unavailable('object storage', e);
};

export class S3ObjectStore implements ObjectStore {
  readonly driver = 's3' as const;
  readonly client: S3Client;

  constructor(
    private readonly options: {
      endpoint?: string;
      region: string;
      forcePathStyle: boolean;
      buckets: Record<BucketName, string>;
      client?: S3Client;
    },
  ) {
    this.client =
      options.client ??
      new S3Client({
        region: options.region,
        ...(options.endpoint ? { endpoint: options.endpoint } : {}),
        forcePathStyle: options.forcePathStyle,
        // Bounded: a storage that does not answer fails the request in seconds (and is retried
        // once), instead of holding it until the operating system gives up on the connection.
        requestHandler: { connectionTimeout: 2000, requestTimeout: 3000, throwOnRequestTimeout: true },
        maxAttempts: 2,
      });
  }

  /** Runs a request; an unavailable storage becomes a 503 (see {@link asUnavailable}). */
  private async send<T>(request: () => Promise<T>): Promise<T> {
    try {
      return await request();
    } catch (e) {
      throw asUnavailable(e);
    }
  }

  bucketName(bucket: BucketName): string {
    return this.options.buckets[bucket];
  }

  async put(bucket: BucketName, key: string, body: Buffer, options: PutOptions): Promise<boolean> {
    if (options.ifAbsent && (await this.head(bucket, key))) return false;
    await this.send(() =>
      this.client.send(
        new PutObjectCommand({
          Bucket: this.bucketName(bucket),
          Key: key,
          Body: body,
          ContentType: options.contentType,
          ...(options.metadata ? { Metadata: options.metadata } : {}),
          // Real S3 refuses the write if the key appeared meanwhile (conditional write).
          ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
        }),
      ),
    );
    return true;
  }

  async upload(
    bucket: BucketName,
    key: string,
    body: Readable,
    options: PutOptions,
  ): Promise<{ size: number }> {
    let size = 0;
    const counted = body.pipe(
      new Transform({
        transform(chunk: Buffer, _encoding, done) {
          size += chunk.length;
          done(null, chunk);
        },
      }),
    );
    body.once('error', (err) => counted.destroy(err));
    await this.send(() =>
      new Upload({
        client: this.client,
        // Parts of 16 MiB, four at a time: memory stays bounded whatever the size.
        partSize: 16 * 1024 * 1024,
        queueSize: 4,
        params: {
          Bucket: this.bucketName(bucket),
          Key: key,
          Body: counted,
          ContentType: options.contentType,
          ...(options.metadata ? { Metadata: options.metadata } : {}),
        },
      }).done(),
    );
    return { size };
  }

  async getStream(bucket: BucketName, key: string): Promise<Readable | undefined> {
    try {
      const r = await this.send(() =>
        this.client.send(new GetObjectCommand({ Bucket: this.bucketName(bucket), Key: key })),
      );
      return r.Body as Readable;
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async head(bucket: BucketName, key: string): Promise<Omit<StoredObject, 'body'> | undefined> {
    try {
      const r = await this.send(() =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucketName(bucket), Key: key })),
      );
      return {
        contentType: r.ContentType ?? 'application/octet-stream',
        metadata: r.Metadata ?? {},
        etag: r.ETag ?? '',
        size: r.ContentLength ?? 0,
      };
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async get(bucket: BucketName, key: string): Promise<StoredObject | undefined> {
    try {
      // The body is read inside the request: a connection lost mid-body is an outage too.
      const { r, body } = await this.send(async () => {
        const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName(bucket), Key: key }));
        return { r, body: Buffer.from(await r.Body!.transformToByteArray()) };
      });
      return {
        body,
        contentType: r.ContentType ?? 'application/octet-stream',
        metadata: r.Metadata ?? {},
        etag: r.ETag ?? '',
        size: body.length,
      };
    } catch (e) {
      if (notFound(e)) return undefined;
      throw e;
    }
  }

  async delete(bucket: BucketName, key: string): Promise<void> {
    await this.send(() =>
      this.client.send(new DeleteObjectCommand({ Bucket: this.bucketName(bucket), Key: key })),
    );
  }

  async toColdStorage(bucket: BucketName, key: string): Promise<void> {
    const name = this.bucketName(bucket);
    // Copied onto itself with the new storage class; its metadata is given again (REPLACE), which
    // every S3 implementation accepts as a change.
    const current = await this.head(bucket, key);
    if (!current) throw new Error(`no object ${key} to move to cold storage`);
    await this.send(() =>
      this.client.send(
        new CopyObjectCommand({
          Bucket: name,
          Key: key,
          CopySource: `${name}/${key.split('/').map(encodeURIComponent).join('/')}`,
          StorageClass: 'GLACIER',
          MetadataDirective: 'REPLACE',
          Metadata: current.metadata,
          ContentType: current.contentType,
        }),
      ),
    );
  }

  async coldState(bucket: BucketName, key: string): Promise<'ready' | 'cold' | 'restoring' | 'missing'> {
    try {
      const r = await this.send(() =>
        this.client.send(new HeadObjectCommand({ Bucket: this.bucketName(bucket), Key: key })),
      );
      if (r.StorageClass !== 'GLACIER' && r.StorageClass !== 'DEEP_ARCHIVE') return 'ready';
      if (!r.Restore) return 'cold';
      return r.Restore.includes('ongoing-request="true"') ? 'restoring' : 'ready';
    } catch (e) {
      if (notFound(e)) return 'missing';
      throw e;
    }
  }

  async requestRestore(bucket: BucketName, key: string, days: number): Promise<void> {
    await this.send(() =>
      this.client.send(
        new RestoreObjectCommand({
          Bucket: this.bucketName(bucket),
          Key: key,
          RestoreRequest: { Days: days, GlacierJobParameters: { Tier: 'Standard' } },
        }),
      ),
    );
  }

  async *list(bucket: BucketName, prefix: string): AsyncIterable<{ key: string; size: number }> {
    let token: string | undefined;
    do {
      const page = await this.send(() =>
        this.client.send(
          new ListObjectsV2Command({
            Bucket: this.bucketName(bucket),
            Prefix: prefix,
            ...(token ? { ContinuationToken: token } : {}),
          }),
        ),
      );
      for (const o of page.Contents ?? []) if (o.Key) yield { key: o.Key, size: o.Size ?? 0 };
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
  }

  async *listVersions(bucket: BucketName, prefix: string): AsyncIterable<ObjectVersion> {
    let keyMarker: string | undefined;
    let versionMarker: string | undefined;
    for (;;) {
      let page;
      try {
        page = await this.send(() =>
          this.client.send(
            new ListObjectVersionsCommand({
              Bucket: this.bucketName(bucket),
              Prefix: prefix,
              ...(keyMarker ? { KeyMarker: keyMarker } : {}),
              ...(versionMarker ? { VersionIdMarker: versionMarker } : {}),
            }),
          ),
        );
      } catch (e) {
        // An S3-compatible store without versioning at all (s3rver, some appliances): its objects
        // have one version each, as in an unversioned S3 bucket.
        if (!unsupported(e)) throw e;
        for await (const o of this.list(bucket, prefix))
          yield { key: o.key, versionId: 'null', isLatest: true, deleteMarker: false };
        return;
      }
      for (const v of page.Versions ?? [])
        if (v.Key)
          yield {
            key: v.Key,
            versionId: v.VersionId ?? 'null',
            isLatest: v.IsLatest === true,
            deleteMarker: false,
          };
      for (const m of page.DeleteMarkers ?? [])
        if (m.Key)
          yield {
            key: m.Key,
            versionId: m.VersionId ?? 'null',
            isLatest: m.IsLatest === true,
            deleteMarker: true,
          };
      if (!page.IsTruncated) return;
      keyMarker = page.NextKeyMarker;
      versionMarker = page.NextVersionIdMarker;
    }
  }

  async deleteVersion(bucket: BucketName, key: string, versionId: string): Promise<void> {
    await this.send(() =>
      this.client.send(
        new DeleteObjectCommand({
          Bucket: this.bucketName(bucket),
          Key: key,
          ...(versionId === 'null' ? {} : { VersionId: versionId }),
        }),
      ),
    );
  }

  signedGetUrl(bucket: BucketName, key: string, expiresSeconds: number): Promise<string> {
    // Private files (uploads, invoices) download as attachments: a browser never renders them
    // in our origin, whatever their bytes are.
    return getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucketName(bucket),
        Key: key,
        ...(bucket === 'productImages' ? {} : { ResponseContentDisposition: 'attachment' }),
      }),
      { expiresIn: expiresSeconds },
    );
  }

  async presignedUpload(
    bucket: BucketName,
    key: string,
    limits: { contentType: string; maxBytes: number; expiresSeconds: number },
  ): Promise<PresignedUpload> {
    const post = await createPresignedPost(this.client, {
      Bucket: this.bucketName(bucket),
      Key: key,
      Conditions: [
        ['content-length-range', 1, limits.maxBytes],
        ['eq', '$Content-Type', limits.contentType],
      ],
      Fields: { 'Content-Type': limits.contentType },
      Expires: limits.expiresSeconds,
    });
    return {
      method: 'POST',
      url: post.url,
      fields: post.fields,
      expiresAt: new Date(Date.now() + limits.expiresSeconds * 1000).toISOString(),
    };
  }

  async ping(): Promise<void> {
    await this.send(() =>
      this.client.send(new HeadBucketCommand({ Bucket: this.bucketName('productImages') })),
    );
  }
}
