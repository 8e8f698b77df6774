/**
 * S3: ShopFlow's five buckets (versioned, encrypted with the data key, private, TLS only, access
 * logs to their own bucket) and the cross-region replication of what cannot be rebuilt.
 */
import type { aws_kms as kms } from 'aws-cdk-lib';
import { Duration, RemovalPolicy, type Stack, aws_iam as iam, aws_s3 as s3 } from 'aws-cdk-lib';
import { type LifecycleRulePolicy, STORAGE_POLICY } from '../../src/platform/storage/policy.ts';
import type { ShopFlowEnvironment } from './environments.ts';
import type { Keys } from './keys.ts';
import { BUCKETS, type BucketKey, REPLICATED, bucketName, replicaKeyAlias, replicaKeyName } from './names.ts';

/** A storage-policy rule as the CDK's bucket takes it. */
const cdkRule = (rule: LifecycleRulePolicy): s3.LifecycleRule => ({
  id: rule.id,
  ...(rule.prefix ? { prefix: rule.prefix } : {}),
  ...(rule.expireDays ? { expiration: Duration.days(rule.expireDays) } : {}),
  ...(rule.noncurrentDays ? { noncurrentVersionExpiration: Duration.days(rule.noncurrentDays) } : {}),
  ...(rule.keepNoncurrentVersions ? { noncurrentVersionsToRetain: rule.keepNoncurrentVersions } : {}),
  ...(rule.abortUploadsDays
    ? { abortIncompleteMultipartUploadAfter: Duration.days(rule.abortUploadsDays) }
    : {}),
  ...(rule.transition
    ? {
        transitions: [
          {
            storageClass: new s3.StorageClass(rule.transition.storageClass),
            transitionAfter: Duration.days(rule.transition.days),
          },
        ],
      }
    : {}),
});

/** The storage policy's versioning, Object Lock and lifecycle of a bucket, as CDK bucket props. */
export const policyProps = (
  name: BucketKey,
): Pick<
  s3.BucketProps,
  'versioned' | 'lifecycleRules' | 'objectLockEnabled' | 'objectLockDefaultRetention'
> => {
  const policy = STORAGE_POLICY[name];
  return {
    versioned: policy.versioned,
    lifecycleRules: policy.lifecycle.map(cdkRule),
    ...(policy.objectLock
      ? {
          objectLockEnabled: true,
          objectLockDefaultRetention: s3.ObjectLockRetention.governance(
            Duration.days(policy.objectLock.days),
          ),
        }
      : {}),
  };
};

export function buckets(
  stack: Stack,
  env: ShopFlowEnvironment,
  keys: Pick<Keys, 'storage' | 'backups'>,
  accessLogs: s3.Bucket,
): Record<BucketKey, s3.Bucket> {
  const replicationRole = new iam.Role(stack, 'ReplicationRole', {
    assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
    description: `S3 cross-region replication of ${REPLICATED.join(', ')}`,
  });
  const result = {} as Record<BucketKey, s3.Bucket>;
  for (const name of Object.keys(BUCKETS) as BucketKey[]) {
    // The backups have a key of their own: a grant on the other buckets never decrypts a dump.
    const key = name === 'backups' ? keys.backups : keys.storage;
    const bucket = new s3.Bucket(stack, `Bucket-${name}`, {
      bucketName: bucketName(env, name),
      encryption: s3.BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: `${name}/`,
      ...policyProps(name),
      // Objects are the store's records (invoices, backups): never deleted with the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    result[name] = bucket;
    if (REPLICATED.includes(name)) replicate(env, key, bucket, name, replicationRole);
  }
  return result;
}

/** Replicates `bucket` to its replica (replica-stack.ts), encrypted with the replica region's key. */
function replicate(
  env: ShopFlowEnvironment,
  key: kms.IKey,
  bucket: s3.Bucket,
  name: BucketKey,
  replicationRole: iam.Role,
): void {
  const destination = `arn:aws:s3:::${bucketName(env, name, true)}`;
  replicationRole.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        's3:ReplicateObject',
        's3:ReplicateDelete',
        's3:ReplicateTags',
        's3:ObjectOwnerOverrideToBucketOwner',
      ],
      resources: [`${destination}/*`],
    }),
  );
  replicationRole.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        's3:GetObjectVersionForReplication',
        's3:GetObjectVersionAcl',
        's3:GetObjectVersionTagging',
        's3:GetObjectRetention',
        's3:GetObjectLegalHold',
        's3:GetReplicationConfiguration',
        's3:ListBucket',
      ],
      resources: [bucket.bucketArn, bucket.arnForObjects('*')],
    }),
  );
  key.grantDecrypt(replicationRole);
  replicationRole.addToPolicy(
    new iam.PolicyStatement({
      actions: ['kms:Encrypt', 'kms:GenerateDataKey'],
      resources: [`arn:aws:kms:${env.replicaRegion}:${env.account}:key/*`],
      conditions: {
        'ForAnyValue:StringEquals': { 'kms:ResourceAliases': `alias/${replicaKeyName(env)}` },
      },
    }),
  );
  (bucket.node.defaultChild as s3.CfnBucket).replicationConfiguration = {
    role: replicationRole.roleArn,
    rules: [
      {
        id: 'to-replica-region',
        status: 'Enabled',
        priority: 1,
        filter: { prefix: '' },
        deleteMarkerReplication: { status: 'Enabled' },
        sourceSelectionCriteria: { sseKmsEncryptedObjects: { status: 'Enabled' } },
        destination: {
          bucket: destination,
          storageClass: 'STANDARD_IA',
          // The replica region's own key (replica-stack.ts), by its alias.
          encryptionConfiguration: { replicaKmsKeyId: replicaKeyAlias(env) },
        },
      },
    ],
  };
}
