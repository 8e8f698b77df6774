/**
 * ShopFlow's storage policy, as plain data: what each bucket keeps, for how long, and where it is
 * copied. `shopflow storage setup` (setup.ts) applies it through the S3 API and the CDK stack
 * (infra/lib/storage.ts, replica-stack.ts) synthesises it; test/infra/storage-policy.test.ts fails
 * when the two differ. Change retention here, nowhere else.
 */
import type { BucketName } from './object-store.ts';

export interface LifecycleRulePolicy {
  /** The rule's id, the same in S3 and in the template. */
  id: string;
  /** Only keys under this prefix (every key when absent). */
  prefix?: string;
  /** Current versions expire this many days after they were written. */
  expireDays?: number;
  /** Replaced or deleted versions expire this many days after they stopped being current... */
  noncurrentDays?: number;
  /** ...except the newest this many of them, kept whatever their age. */
  keepNoncurrentVersions?: number;
  abortUploadsDays?: number;
  transition?: { days: number; storageClass: 'STANDARD_IA' | 'GLACIER' };
}

export interface BucketPolicy {
  /** Every bucket is versioned: an overwrite or delete leaves the previous version. */
  versioned: true;
  /** S3 Object Lock's default retention: versions cannot be deleted for `days` (governance mode). */
  objectLock?: { mode: 'GOVERNANCE'; days: number };
  /** Copied to the recovery region (what cannot be rebuilt from anything else). */
  replicated: boolean;
  lifecycle: LifecycleRulePolicy[];
}

const abortUploads: LifecycleRulePolicy = { id: 'abort-incomplete-uploads', abortUploadsDays: 1 };

export const STORAGE_POLICY: Readonly<Record<BucketName, BucketPolicy>> = {
  productImages: {
    versioned: true,
    replicated: false, // originals are re-uploadable; renditions are derived
    lifecycle: [
      abortUploads,
      { id: 'expire-replaced-images', noncurrentDays: 90 },
      // Images uploaded from the console land under incoming/ until filed under products/; one
      // never filed is gone after a day.
      { id: 'expire-unfiled-uploads', prefix: 'incoming/', expireDays: 1 },
    ],
  },
  userUploads: {
    versioned: true,
    replicated: true,
    lifecycle: [abortUploads, { id: 'expire-replaced-uploads', noncurrentDays: 30 }],
  },
  invoices: {
    versioned: true,
    replicated: true,
    lifecycle: [
      abortUploads,
      { id: 'invoices-to-ia', transition: { days: 90, storageClass: 'STANDARD_IA' } },
    ],
  },
  archive: {
    versioned: true,
    // The only full copy of orders older than the archive age.
    replicated: true,
    lifecycle: [
      abortUploads,
      // ShopFlow moves verified archives itself; this rule is the backstop for any it did not.
      { id: 'archive-to-glacier', transition: { days: 1, storageClass: 'GLACIER' } },
    ],
  },
  backups: {
    versioned: true,
    // No version can be deleted for 30 days, not even by ShopFlow's own credentials.
    objectLock: { mode: 'GOVERNANCE', days: 30 },
    replicated: true,
    // No rule expires a current backup: `backup prune` deletes by age (BACKUP_RETENTION_DAYS) and
    // keeps the newest BACKUP_RETENTION_COUNT and the newest verified one whatever their age, so
    // backups that stopped never take the last good ones with them. pgBackRest's repository
    // (pgbackrest/) expires its own backups (repo1-retention-full). What prune or pgBackRest
    // deleted stays recoverable as a noncurrent version for 30 days (the newest 3 always).
    lifecycle: [
      abortUploads,
      { id: 'expire-deleted-backups', noncurrentDays: 30, keepNoncurrentVersions: 3 },
    ],
  },
};

/** The buckets copied to the recovery region. */
export const REPLICATED: readonly BucketName[] = (Object.keys(STORAGE_POLICY) as BucketName[]).filter(
  (b) => STORAGE_POLICY[b].replicated,
);
