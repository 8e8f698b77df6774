/**
 * S3 through AWS SDK v3 (credentials from the standard AWS chain). Every write is server-side
 * encrypted (AES256). Uploads are presigned POSTs whose policy carries the size range, the exact
 * content type and the key, so S3 itself refuses anything else.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  PutObjectCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { BucketName, ObjectStore, PresignedUpload, PutOptions, StoredObject } from './object-store.ts';

const notFound = (e: unknown) =>
  e instanceof S3ServiceException &&
  (e.$metadata.httpStatusCode === 404 || e.name === 'NotFound' || e.name === 'NoSuchKey');

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
      });
  }

  bucketName(bucket: BucketName): string {
    return this.options.buckets[bucket];
  }

  async put(bucket: BucketName, key: string, body: Buffer, options: PutOptions): Promise<boolean> {
    if (options.ifAbsent && (await this.head(bucket, key))) return false;
    await this.client.send(
      new PutObjectCommand({
        Bucket: this.bucketName(bucket),
        Key: key,
        Body: body,
        ContentType: options.contentType,
        ServerSideEncryption: 'AES256',
        ...(options.metadata ? { Metadata: options.metadata } : {}),
        // Real S3 refuses the write if the key appeared meanwhile (conditional write).
        ...(options.ifAbsent ? { IfNoneMatch: '*' } : {}),
      }),
    );
    return true;
  }

  async head(bucket: BucketName, key: string): Promise<Omit<StoredObject, 'body'> | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucketName(bucket), Key: key }));
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
      const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucketName(bucket), Key: key }));
      const body = Buffer.from(await r.Body!.transformToByteArray());
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
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucketName(bucket), Key: key }));
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
        ['eq', '$x-amz-server-side-encryption', 'AES256'],
      ],
      Fields: { 'Content-Type': limits.contentType, 'x-amz-server-side-encryption': 'AES256' },
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
    await this.client.send(new HeadBucketCommand({ Bucket: this.bucketName('productImages') }));
  }
}
