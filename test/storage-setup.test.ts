import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { setupS3Buckets } from '../src/platform/storage/setup.ts';
import { recordCommands, startS3, TEST_BUCKETS } from './s3.ts';

describe('shopflow storage setup (S3, against s3rver)', () => {
  it('creates missing buckets and sends versioning, encryption, public access block and lifecycle, idempotently', async () => {
    const s3 = await startS3({ createBuckets: false });
    const sent = recordCommands(s3.client);
    try {
      const first = await setupS3Buckets(s3.client, TEST_BUCKETS, 'us-east-1');
      expect(first.map((r) => r.steps.bucket)).toEqual(Array(5).fill('created'));
      for (const b of Object.values(TEST_BUCKETS)) await s3.client.send(new HeadBucketCommand({ Bucket: b }));
      const second = await setupS3Buckets(s3.client, TEST_BUCKETS, 'us-east-1');
      expect(second.map((r) => r.steps.bucket)).toEqual(Array(5).fill('exists'));
      // s3rver implements none of the configuration calls; real S3 applies them. Each is reported.
      for (const r of second)
        for (const step of ['versioning', 'encryption', 'publicAccessBlock', 'lifecycle'])
          expect(['applied', 'unsupported']).toContain(r.steps[step]);

      const archiveLifecycle = sent.find(
        (c) =>
          c.command === 'PutBucketLifecycleConfigurationCommand' && c.input.Bucket === TEST_BUCKETS.archive,
      )!;
      expect(JSON.stringify(archiveLifecycle.input)).toContain('"StorageClass":"GLACIER"');
      const backups = sent.find(
        (c) =>
          c.command === 'PutBucketLifecycleConfigurationCommand' && c.input.Bucket === TEST_BUCKETS.backups,
      )!;
      // Backups are never expired by age by the bucket (prune does, keeping the newest ones).
      expect(JSON.stringify(backups.input)).not.toContain('"Expiration"');
      expect(JSON.stringify(backups.input)).toContain('"NewerNoncurrentVersions":3');
      expect(
        sent.find((c) => c.command === 'CreateBucketCommand' && c.input.Bucket === TEST_BUCKETS.backups)!
          .input,
      ).toMatchObject({ ObjectLockEnabledForBucket: true });
      expect(sent.find((c) => c.command === 'PutBucketEncryptionCommand')!.input).toMatchObject({
        ServerSideEncryptionConfiguration: {
          Rules: [{ ApplyServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
        },
      });
      expect(sent.find((c) => c.command === 'PutPublicAccessBlockCommand')!.input).toMatchObject({
        PublicAccessBlockConfiguration: {
          BlockPublicAcls: true,
          IgnorePublicAcls: true,
          BlockPublicPolicy: true,
          RestrictPublicBuckets: true,
        },
      });
      expect(sent.find((c) => c.command === 'PutBucketVersioningCommand')!.input).toMatchObject({
        VersioningConfiguration: { Status: 'Enabled' },
      });
      // No replication unless configured.
      expect(sent.some((c) => c.command === 'PutBucketReplicationCommand')).toBe(false);
      sent.length = 0;
      const replicated = await setupS3Buckets(s3.client, TEST_BUCKETS, 'us-east-1', {
        roleArn: 'arn:aws:iam::123456789012:role/shopflow-replication',
        bucketSuffix: '-replica-us-west-2',
      });
      const rules = sent.filter((c) => c.command === 'PutBucketReplicationCommand');
      expect(rules.map((c) => c.input.Bucket).sort()).toEqual(
        [TEST_BUCKETS.archive, TEST_BUCKETS.backups, TEST_BUCKETS.invoices, TEST_BUCKETS.userUploads].sort(),
      );
      const invoices = rules.find((c) => c.input.Bucket === TEST_BUCKETS.invoices)!;
      expect(invoices.input).toMatchObject({
        ReplicationConfiguration: {
          Role: 'arn:aws:iam::123456789012:role/shopflow-replication',
          Rules: [
            {
              Status: 'Enabled',
              Destination: { Bucket: `arn:aws:s3:::${TEST_BUCKETS.invoices}-replica-us-west-2` },
            },
          ],
        },
      });
      expect(replicated.filter((r) => r.steps.replication).length).toBe(4);
    } finally {
      await s3.stop();
    }
  });
});
