/**
 * `shopflow storage setup`: creates missing buckets and (re)applies their configuration,
 * idempotently, from the storage policy (policy.ts, the same data the CDK stack synthesises):
 * versioning, Object Lock's default retention, lifecycle rules; a full public access block on
 * every bucket (the CDN reads product images through origin access control, not public access);
 * default encryption AES256 unless the bucket already encrypts with a KMS key (the CDK stack's
 * buckets do; that default is kept). With S3_REPLICATION_ROLE_ARN and S3_REPLICA_BUCKET_SUFFIX,
 * the policy's replicated buckets are replicated to another region.
 */
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import {
  CreateBucketCommand,
  GetBucketEncryptionCommand,
  HeadBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketReplicationCommand,
  PutBucketVersioningCommand,
  PutObjectLockConfigurationCommand,
  PutPublicAccessBlockCommand,
  type LifecycleRule,
  type S3Client,
} from '@aws-sdk/client-s3';
import type { BucketName } from './object-store.ts';
import { REPLICATED, STORAGE_POLICY, type LifecycleRulePolicy } from './policy.ts';

export type StepResult = 'created' | 'exists' | 'applied' | 'kept' | 'unsupported';

export interface SetupReport {
  bucket: string;
  steps: Record<string, StepResult>;
}

/** A policy rule as the S3 API takes it. */
export function lifecycleRule(rule: LifecycleRulePolicy): LifecycleRule {
  return {
    ID: rule.id,
    Status: 'Enabled',
    Filter: { Prefix: rule.prefix ?? '' },
    ...(rule.expireDays ? { Expiration: { Days: rule.expireDays } } : {}),
    ...(rule.noncurrentDays
      ? {
          NoncurrentVersionExpiration: {
            NoncurrentDays: rule.noncurrentDays,
            ...(rule.keepNoncurrentVersions ? { NewerNoncurrentVersions: rule.keepNoncurrentVersions } : {}),
          },
        }
      : {}),
    ...(rule.abortUploadsDays
      ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: rule.abortUploadsDays } }
      : {}),
    ...(rule.transition
      ? { Transitions: [{ Days: rule.transition.days, StorageClass: rule.transition.storageClass }] }
      : {}),
  };
}

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

export interface ReplicationSettings {
  /** The IAM role S3 assumes to copy objects (it needs read here and write there). */
  roleArn: string;
  /** The replica of bucket B is B + suffix, created in the other region, versioned. */
  bucketSuffix: string;
}

/** Whether the bucket's default encryption is a KMS key (never replaced by AES256). */
async function encryptsWithKms(client: S3Client, bucket: string): Promise<boolean> {
  try {
    const r = await client.send(new GetBucketEncryptionCommand({ Bucket: bucket }));
    return (r.ServerSideEncryptionConfiguration?.Rules ?? []).some((rule) =>
      rule.ApplyServerSideEncryptionByDefault?.SSEAlgorithm?.startsWith('aws:kms'),
    );
  } catch {
    return false; // no configuration, or an endpoint without the call
  }
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
    const policy = STORAGE_POLICY[name];
    try {
      await client.send(new HeadBucketCommand({ Bucket: bucket }));
      steps.bucket = 'exists';
    } catch {
      await client.send(
        new CreateBucketCommand({
          Bucket: bucket,
          // Object Lock is enabled when a bucket is created (S3 also allows it later on a versioned one).
          ...(policy.objectLock ? { ObjectLockEnabledForBucket: true } : {}),
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
    if (await encryptsWithKms(client, bucket)) steps.encryption = 'kept';
    else
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
    const lock = policy.objectLock;
    if (lock)
      await apply('objectLock', () =>
        client.send(
          new PutObjectLockConfigurationCommand({
            Bucket: bucket,
            ObjectLockConfiguration: {
              ObjectLockEnabled: 'Enabled',
              Rule: { DefaultRetention: { Mode: lock.mode, Days: lock.days } },
            },
          }),
        ),
      );
    await apply('lifecycle', () =>
      client.send(
        new PutBucketLifecycleConfigurationCommand({
          Bucket: bucket,
          LifecycleConfiguration: { Rules: STORAGE_POLICY[name].lifecycle.map(lifecycleRule) },
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
