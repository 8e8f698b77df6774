import type { Readable } from 'node:stream';
/**
 * The object store port: S3 (any S3-compatible endpoint) in production, a local directory in the
 * embedded default. Buckets are the original design's (product images, user uploads, private invoices)
 * plus archive and backups.
 */

/** The buckets ShopFlow uses, by role (each maps to a configured bucket name). */
export type BucketName = 'productImages' | 'userUploads' | 'invoices' | 'archive' | 'backups';

export interface StoredObject {
  body: Buffer;
  contentType: string;
  metadata: Record<string, string>;
  etag: string;
  size: number;
}

export interface PutOptions {
  contentType: string;
  metadata?: Record<string, string>;
  /** Write only if the key does not exist yet (exactly-once writes). */
  ifAbsent?: boolean;
}

export interface PresignedUpload {
  method: 'POST';
  url: string;
  /** Form fields to send before the file field (named `file`). */
  fields: Record<string, string>;
  expiresAt: string;
}

/** One stored version of an object, or a delete marker (what a plain delete leaves in a versioned bucket). */
export interface ObjectVersion {
  key: string;
  versionId: string;
  isLatest: boolean;
  deleteMarker: boolean;
}

export interface ObjectStore {
  readonly driver: 'local' | 's3';
  /** Stores an object, server-side encrypted. Returns false when `ifAbsent` and it existed. */
  put(bucket: BucketName, key: string, body: Buffer, options: PutOptions): Promise<boolean>;
  get(bucket: BucketName, key: string): Promise<StoredObject | undefined>;
  /**
   * Stores a stream of any length without holding it in memory (S3: a multipart upload). The
   * object appears only once it is whole: an interrupted upload leaves nothing under `key`.
   */
  upload(bucket: BucketName, key: string, body: Readable, options: PutOptions): Promise<{ size: number }>;
  /** The object's bytes as a stream, or undefined when it does not exist. */
  getStream(bucket: BucketName, key: string): Promise<Readable | undefined>;
  head(bucket: BucketName, key: string): Promise<Omit<StoredObject, 'body'> | undefined>;
  delete(bucket: BucketName, key: string): Promise<void>;
  /**
   * Moves an object to cold storage (S3: the GLACIER storage class, by copying it onto itself;
   * the local driver keeps it where it is). Reading it then needs a restore first.
   */
  toColdStorage(bucket: BucketName, key: string): Promise<void>;
  /** Whether an object can be read now, is in cold storage, is being restored, or does not exist. */
  coldState(bucket: BucketName, key: string): Promise<'ready' | 'cold' | 'restoring' | 'missing'>;
  /** Asks cold storage for a readable copy for `days` (S3 RestoreObject, standard tier: hours). */
  requestRestore(bucket: BucketName, key: string, days: number): Promise<void>;
  /** The keys under `prefix` (with their sizes), in key order, a page at a time. */
  list(bucket: BucketName, prefix: string): AsyncIterable<{ key: string; size: number }>;
  /**
   * Every stored version of the objects under `prefix`, delete markers included (S3:
   * ListObjectVersions). A store or bucket that keeps no versions answers each current object
   * once, as version `null` (as S3 does for an unversioned bucket).
   */
  listVersions(bucket: BucketName, prefix: string): AsyncIterable<ObjectVersion>;
  /** Deletes one version for good (S3: DeleteObject with its VersionId; version `null`: the object). */
  deleteVersion(bucket: BucketName, key: string, versionId: string): Promise<void>;
  /** A short-lived URL to download one object. */
  signedGetUrl(bucket: BucketName, key: string, expiresSeconds: number): Promise<string>;
  /** A presigned form upload of exactly `key`, limited in size and content type. */
  presignedUpload(
    bucket: BucketName,
    key: string,
    limits: { contentType: string; maxBytes: number; expiresSeconds: number },
  ): Promise<PresignedUpload>;
  ping(): Promise<void>;
}

/** Keys are what we generate: path segments of safe characters, no `..`, no leading slash. */
export function isSafeKey(key: string): boolean {
  return (
    key.length > 0 &&
    key.length <= 512 &&
    /^[A-Za-z0-9._\-/]+$/.test(key) &&
    !key.startsWith('/') &&
    !key.split('/').some((s) => s === '' || s === '.' || s === '..')
  );
}

/**
 * Deletes, by version id, the versions of the objects under `prefix` (only `exactKey` when set):
 * every version and delete marker, or, with `keepLatest`, all but the current version of each
 * key. For erasure: a versioned bucket keeps what a replaced or deleted object held until its
 * earlier versions are deleted this way. Returns how many versions were deleted.
 */
export async function purgeVersions(
  store: ObjectStore,
  bucket: BucketName,
  prefix: string,
  options: { keepLatest: boolean; exactKey?: boolean },
): Promise<number> {
  // Listed first, then deleted: deleting while paging would move the listing's markers.
  const doomed: ObjectVersion[] = [];
  for await (const v of store.listVersions(bucket, prefix)) {
    if (options.exactKey && v.key !== prefix) continue;
    if (options.keepLatest && v.isLatest && !v.deleteMarker) continue;
    doomed.push(v);
  }
  for (const v of doomed) await store.deleteVersion(bucket, v.key, v.versionId);
  return doomed.length;
}
