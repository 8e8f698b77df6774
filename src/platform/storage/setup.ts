/**
 * `shopflow storage setup`: creates missing buckets and (re)applies their configuration,
 * idempotently. Versioning, default encryption (AES256) and a full public access block on every
 * bucket (the CDN reads product images through an origin access identity, not public access);
 * lifecycle rules: the archive bucket moves objects to Glacier (the retention job writes there),
 * backups expire after 45 days (behind `backup prune`), abandoned multipart uploads are cleaned;
 * with S3_REPLICATION_ROLE_ARN and S3_REPLICA_BUCKET_SUFFIX, invoices and backups are replicated to
 * another region.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutPublicAccessBlockCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BucketName } from './object-store.ts';

export type StepResult = 'created' | 'exists' | 'applied' | 'unsupported';

export interface SetupReport {
  bucket: string;
  steps: Record<string, StepResult>;
}

const ABORT_UPLOADS: LifecycleRule = {
  ID: 'abort-incomplete-uploads',
  Status: 'Enabled',
  Filter: { Prefix: '' },
  AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
};

export const LIFECYCLE: Record<BucketName, LifecycleRule[]> = {
  productImages: [
    ABORT_UPLOADS,
    {
      // Images uploaded straight from the console land under incoming/ until they are filed
      // (checked and copied under products/); one never filed is gone after a day.
      ID: 'expire-unfiled-uploads',
      Status: 'Enabled',
      Filter: { Prefix: 'incoming/' },
      Expiration: { Days: 1 },
    },
  ],
  userUploads: [ABORT_UPLOADS],
  invoices: [ABORT_UPLOADS],
  archive: [
    ABORT_UPLOADS,
    {
      ID: 'archive-to-glacier',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      Transitions: [{ Days: 1, StorageClass: 'GLACIER' }],
    },
  ],
  backups: [
    ABORT_UPLOADS,
    {
      // A safety net behind `shopflow backup prune` (BACKUP_RETENTION_DAYS, 30 by default, which
      // always keeps the newest verified backup): only backups nothing pruned for 45 days expire.
      ID: 'expire-backups-45-days',
      Status: 'Enabled',
      Filter: { Prefix: '' },
      Expiration: { Days: 45 },
      NoncurrentVersionExpiration: { NoncurrentDays: 7 },
    },
  ],
};

/** Endpoints such as s3rver implement a subset of S3: a refused configuration call is reported. */
function unsupported(e: unknown): boolean {
  const status = (e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return (
    status === 501 ||
    status === 405 ||
    status === 400 ||
    (e as { name?: string }).name === 'NotImplemented' ||
    status === 409
  );
}

/** The buckets copied to another region (what a lost region must not take with it). */
export const REPLICATED: readonly BucketName[] = ['invoices', 'backups'];

export interface ReplicationSettings {
  /** The IAM role S3 assumes to copy objects (it needs read here and write there). */
  roleArn: string;
  /** The replica of bucket B is B + suffix, created in the other region, versioned. */
  bucketSuffix: string;
}

export async function setupS3Buckets(
  client: S3Client,
  buckets: Record<BucketName, string>,
  region: string,
  replication?: ReplicationSettings,
): Promise<SetupReport[]> {
  const reports: SetupReport[] = [];
  for (const [name, bucket] of Object.entries(buckets) as [BucketName, string][]) {
    const steps: Record<string, StepResult> = {};
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      steps.bucket = 'exists';
    } catch {
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          ...(region !== 'us-east-1'
            ? { CreateBucketConfiguration: { LocationConstraint: region as never } }
            : {}),
        }),
      );
      steps.bucket = 'created';
    }
    const apply = async (step: string, send: () => Promise<unknown>) => {
      try {
        await send();
        steps[step] = 'applied';
      } catch (e) {
        if (!unsupported(e)) throw e;
        steps[step] = 'unsupported';
      }
    };
    await apply('versioning', () =>
      client.send(
        new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: 'Enabled' } }),
      ),
    );
    await apply('encryption', () =>
      client.send(
        new PutBucketEncryptionCommand({
          Bucket: bucket,
          ServerSideEncryptionConfiguration: {
            Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
          },
        }),
      ),
    );
    await apply('publicAccessBlock', () =>
      client.send(
        new PutPublicAccessBlockCommand({
          Bucket: bucket,
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            IgnorePublicAcls: true,
            BlockPublicPolicy: true,
            RestrictPublicBuckets: true,
          },
        }),
      ),
    );
    await apply('lifecycle', () =>
      client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: LIFECYCLE[name] },
        }),
      ),
    );
    if (replication && REPLICATED.includes(name))
      await apply('replication', () =>
        client.send(
          new PutBucketReplicationCommand({
            Bucket: bucket,
            ReplicationConfiguration: {
              Role: replication.roleArn,
              Rules: [
                {
                  ID: 'cross-region-replica',
                  Status: 'Enabled',
                  Priority: 1,
                  Filter: { Prefix: '' },
                  DeleteMarkerReplication: { Status: 'Enabled' },
                  Destination: {
                    Bucket: `arn:aws:s3:::${bucket}${replication.bucketSuffix}`,
                    StorageClass: 'STANDARD_IA',
                  },
                },
              ],
            },
          }),
        ),
      );
    reports.push({ bucket, steps });
  }
  return reports;
}

/** The local driver: one private directory per bucket. */
export async function setupLocalBuckets(
  dir: string,
  buckets: Record<BucketName, string>,
): Promise<SetupReport[]> {
  const reports: SetupReport[] = [];
  for (const bucket of Object.values(buckets)) {
    await mkdir(path.join(dir, bucket), { recursive: true, mode: 0o700 });
    reports.push({ bucket, steps: { bucket: 'exists' } });
  }
  return reports;
}
