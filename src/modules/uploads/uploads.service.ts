import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { ObjectStore, PresignedUpload } from '../../platform/storage/object-store.ts';
import { isSafeKey, purgeVersions } from '../../platform/storage/object-store.ts';
import { uploadsSql } from './uploads.sql.ts';

/** Who uploads: a customer, or a guest's session (its id is a hash, never the token). */
export type Uploader = { customerId: string } | { guestSessionId: string };

/** Content types a customization upload may have. */
export const UPLOAD_TYPES = ['image/png', 'image/jpeg', 'image/webp', 'application/pdf'] as const;
const UPLOAD_URL_SECONDS = 15 * 60;
const READ_URL_SECONDS = 5 * 60;

/** Every key of an uploader starts with this: uploads are scoped to their owner. */
export function uploadPrefix(owner: Uploader): string {
  return 'customerId' in owner
    ? `uploads/c/${owner.customerId}/`
    : `uploads/s/${owner.guestSessionId.slice(0, 32)}/`;
}

function safeFileName(name: string): string {
  const base = name.split(/[\\/]/).pop() ?? 'file';
  const cleaned = base
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^A-Za-z0-9._-]+/g, '-')
    .replace(/^[.-]+/, '')
    .slice(0, 100);
  return cleaned || 'file';
}

export interface UploadLimits {
  /** Largest single upload, bytes. */
  maxBytes: number;
  /** Uploads of one owner that no order references yet: at most this many... */
  perOwnerCount: number;
  /** ...and this many bytes (as declared when the upload was asked for). */
  perOwnerBytes: number;
  /** Uploads no order references are deleted once this old. */
  unreferencedHours: number;
}

export class UploadsService {
  constructor(private readonly deps: { db: Database; store: ObjectStore } & UploadLimits) {}

  /** A presigned upload under the caller's own prefix, short-lived, limited in size and type. */
  async create(
    owner: Uploader,
    input: { fileName: string; contentType: string; size: number },
  ): Promise<{ key: string; expiresAt: string; upload: PresignedUpload }> {
    if (!(UPLOAD_TYPES as readonly string[]).includes(input.contentType)) {
      throw new AppError('invalid', 'unsupported_media_type', `Uploads may be ${UPLOAD_TYPES.join(', ')}`, {
        details: [{ field: 'contentType', message: 'not allowed' }],
      });
    }
    if (input.size > this.deps.maxBytes) {
      throw new AppError(
        'too_large',
        'payload_too_large',
        `Uploads are limited to ${this.deps.maxBytes} bytes`,
        {
          details: [{ field: 'size', message: `at most ${this.deps.maxBytes}` }],
        },
      );
    }
    const key = `${uploadPrefix(owner)}${randomUUID()}/${safeFileName(input.fileName)}`;
    // Counted when handed out (the form allows the declared size), not when the bytes arrive:
    // a thousand forms asked for at once count as a thousand.
    const { count, bytes, recorded } = await withTransaction(this.deps.db.primary, (tx) =>
      uploadsSql.recordWithinQuota(
        tx,
        { key, owner: uploadPrefix(owner), size: input.size },
        { count: this.deps.perOwnerCount, bytes: this.deps.perOwnerBytes },
      ),
    );
    if (!recorded)
      throw AppError.conflict(
        'upload_quota_exceeded',
        `At most ${this.deps.perOwnerCount} uploads and ${this.deps.perOwnerBytes} bytes not yet used in an order; ` +
          `uploads no order uses are deleted after ${this.deps.unreferencedHours} hours`,
        {
          count,
          bytes,
          maxCount: this.deps.perOwnerCount,
          maxBytes: this.deps.perOwnerBytes,
        },
      );
    const upload = await this.deps.store.presignedUpload('userUploads', key, {
      contentType: input.contentType,
      // The declared size is the ceiling: S3 (or our local endpoint) refuses larger bytes.
      maxBytes: input.size,
      expiresSeconds: UPLOAD_URL_SECONDS,
    });
    return { key, expiresAt: upload.expiresAt, upload };
  }

  /** A short-lived URL to read one's own upload; anybody else's (or none) is 404. */
  async readUrl(owner: Uploader, key: string): Promise<{ url: string; expiresAt: string }> {
    if (
      !isSafeKey(key) ||
      !key.startsWith(uploadPrefix(owner)) ||
      !(await this.deps.store.head('userUploads', key))
    ) {
      throw AppError.notFound('Upload');
    }
    return {
      url: await this.deps.store.signedGetUrl('userUploads', key, READ_URL_SECONDS),
      expiresAt: new Date(Date.now() + READ_URL_SECONDS * 1000).toISOString(),
    };
  }

  /** Checks that every `customization.uploadKey` of an order is the caller's own upload. */
  assertOwnUploads(owner: Uploader, items: { customization?: Record<string, unknown> | null }[]): void {
    items.forEach((item, i) => {
      const key = item.customization?.uploadKey;
      if (key === undefined) return;
      if (typeof key !== 'string' || !isSafeKey(key) || !key.startsWith(uploadPrefix(owner))) {
        throw AppError.invalid('customization.uploadKey must be one of your uploads', [
          { field: `items.${i}.customization.uploadKey`, message: 'not your upload' },
        ]);
      }
    });
  }

  /** Deletes uploads no order references once they are older than the configured age, in batches. */
  expireJob(batch = 500): Job {
    const hours = this.deps.unreferencedHours;
    return defineJob({
      name: 'expire-uploads',
      schedule: '25 * * * *',
      retentionStep: 4,
      description: `Deletes customer uploads no order references, ${hours} hours after they were asked for`,
      run: async (ctx) => {
        let deleted = 0;
        for (;;) {
          if (ctx.signal.aborted) break;
          const keys = await uploadsSql.unreferencedOlderThan(this.deps.db.primary, hours, batch);
          // Every version: in a versioned bucket a plain delete would keep the bytes as a noncurrent one.
          for (const key of keys)
            await purgeVersions(this.deps.store, 'userUploads', key, { keepLatest: false, exactKey: true });
          deleted += keys.length === 0 ? 0 : await uploadsSql.forget(this.deps.db.primary, keys);
          ctx.progress({ done: deleted, unit: 'uploads' });
          if (keys.length < batch) break;
        }
        return { deleted };
      },
    });
  }

  /** Erasure, in the caller's transaction: the records of an owner's uploads (the files go after the commit). */
  forgetOwner(tx: Queryable, owner: Uploader): Promise<void> {
    return uploadsSql.forgetOwner(tx, uploadPrefix(owner));
  }
}
