/**
 * One storage policy (src/platform/storage/policy.ts): what `shopflow storage setup` sends to S3
 * (recorded from the SDK, pointed at s3rver) and what the CDK stacks synthesise must say the same
 * for every bucket: versioning, Object Lock, lifecycle rules and which buckets are replicated, in
 * the primary region and in the replica region. A rule changed on one side only fails here.
 */
import type { LifecycleRule } from '@aws-sdk/client-s3';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { buildStacks } from '../../infra/lib/app.ts';
import { environments } from '../../infra/lib/environments.ts';
import { CONTEXT_ENV } from './context.ts';
import { BUCKETS, bucketName } from '../../infra/lib/names.ts';
import type { BucketName } from '../../src/platform/storage/object-store.ts';
import { setupS3Buckets } from '../../src/platform/storage/setup.ts';
import { recordCommands, startS3, TEST_BUCKETS } from '../s3.ts';

/** A bucket's storage settings in one neutral shape, whichever side they were read from. */
interface Settings {
  versioned: boolean;
  objectLock?: { mode: string; days: number };
  replicated: boolean;
  rules: Record<string, unknown>[];
}
const clean = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined && v !== ''));

const fromSdk = (r: LifecycleRule) =>
  clean({
    id: r.ID,
    prefix: r.Filter?.Prefix,
    expireDays: r.Expiration?.Days,
    noncurrentDays: r.NoncurrentVersionExpiration?.NoncurrentDays,
    keepNoncurrent: r.NoncurrentVersionExpiration?.NewerNoncurrentVersions,
    abortDays: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    transitions: r.Transitions?.map((t) => `${t.StorageClass}@${t.Days}`).join(','),
  });

interface CfnRule {
  Id?: string;
  Prefix?: string;
  ExpirationInDays?: number;
  NoncurrentVersionExpiration?: { NoncurrentDays: number; NewerNoncurrentVersions?: number };
  AbortIncompleteMultipartUpload?: { DaysAfterInitiation: number };
  Transitions?: { StorageClass: string; TransitionInDays: number }[];
}
const fromTemplate = (r: CfnRule) =>
  clean({
    id: r.Id,
    prefix: r.Prefix,
    expireDays: r.ExpirationInDays,
    noncurrentDays: r.NoncurrentVersionExpiration?.NoncurrentDays,
    keepNoncurrent: r.NoncurrentVersionExpiration?.NewerNoncurrentVersions,
    abortDays: r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
    transitions: r.Transitions?.map((t) => `${t.StorageClass}@${t.TransitionInDays}`).join(','),
  });

interface CfnBucket {
  BucketName: string;
  VersioningConfiguration?: { Status: string };
  ObjectLockEnabled?: boolean;
  ObjectLockConfiguration?: { Rule?: { DefaultRetention?: { Mode: string; Days: number } } };
  LifecycleConfiguration?: { Rules: CfnRule[] };
  ReplicationConfiguration?: unknown;
}
const templateSettings = (b: CfnBucket, replicated: boolean): Settings => {
  const retention = b.ObjectLockConfiguration?.Rule?.DefaultRetention;
  return {
    versioned: b.VersioningConfiguration?.Status === 'Enabled',
    ...(b.ObjectLockEnabled && retention
      ? { objectLock: { mode: retention.Mode, days: retention.Days } }
      : {}),
    replicated,
    rules: (b.LifecycleConfiguration?.Rules ?? []).map(fromTemplate),
  };
};

/** What storage setup sends, per bucket, recorded at the SDK as the commands leave it. */
async function setupSettings(): Promise<Record<BucketName, Settings>> {
  const s3 = await startS3({ createBuckets: false });
  const sent = recordCommands(s3.client);
  try {
    await setupS3Buckets(s3.client, TEST_BUCKETS, 'us-east-1', {
      roleArn: 'arn:aws:iam::123456789012:role/replication',
      bucketSuffix: '-replica',
    });
  } finally {
    await s3.stop();
  }
  const of = (command: string, bucket: string) =>
    sent.find((c) => c.command === command && c.input.Bucket === bucket)?.input;
  return Object.fromEntries(
    (Object.keys(TEST_BUCKETS) as BucketName[]).map((name) => {
      const bucket = TEST_BUCKETS[name];
      const versioning = of('PutBucketVersioningCommand', bucket) as {
        VersioningConfiguration: { Status: string };
      };
      const lock = of('PutObjectLockConfigurationCommand', bucket) as
        | { ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: string; Days: number } } } }
        | undefined;
      const lifecycle = of('PutBucketLifecycleConfigurationCommand', bucket) as {
        LifecycleConfiguration: { Rules: LifecycleRule[] };
      };
      const created = of('CreateBucketCommand', bucket) as { ObjectLockEnabledForBucket?: boolean };
      const retention = lock?.ObjectLockConfiguration.Rule.DefaultRetention;
      const settings: Settings = {
        versioned: versioning.VersioningConfiguration.Status === 'Enabled',
        ...(retention && created.ObjectLockEnabledForBucket
          ? { objectLock: { mode: retention.Mode, days: retention.Days } }
          : {}),
        replicated: Boolean(of('PutBucketReplicationCommand', bucket)),
        rules: lifecycle.LifecycleConfiguration.Rules.map(fromSdk),
      };
      return [name, settings];
    }),
  ) as Record<BucketName, Settings>;
}

describe('one storage policy for storage setup and the CDK stacks', () => {
  it('storage setup applies exactly what both environments synthesise, in both regions', async () => {
    const applied = await setupSettings();
    const app = new App({ outdir: undefined });
    const stacks = buildStacks(app, environments(CONTEXT_ENV));
    for (const { primary, replica } of stacks) {
      const buckets = (t: Template) =>
        Object.values(t.findResources('AWS::S3::Bucket')).map(
          (r) => (r as { Properties: CfnBucket }).Properties,
        );
      const primaries = buckets(Template.fromStack(primary));
      const replicas = buckets(Template.fromStack(replica));
      for (const name of Object.keys(BUCKETS) as BucketName[]) {
        const main = primaries.find((b) => b.BucketName === bucketName(primary.target, name))!;
        const synthesised = templateSettings(main, Boolean(main.ReplicationConfiguration));
        expect(synthesised, `${primary.target.name} ${name}`).toEqual(applied[name]);
        const copy = replicas.find((b) => b.BucketName === bucketName(primary.target, name, true));
        expect(Boolean(copy), `${name} has a replica`).toBe(applied[name].replicated);
        if (copy)
          expect(templateSettings(copy, true), `${primary.target.name} ${name} replica`).toEqual(
            applied[name],
          );
      }
    }
    // The figures the issue names: backups are never expired by age by the bucket, they are locked.
    expect(applied.backups.rules.some((r) => 'expireDays' in r)).toBe(false);
    expect(applied.backups.objectLock).toEqual({ mode: 'GOVERNANCE', days: 30 });
    expect(
      Object.entries(applied)
        .filter(([, s]) => s.replicated)
        .map(([n]) => n)
        .sort(),
    ).toEqual(['archive', 'backups', 'invoices', 'userUploads']);
  });
});
