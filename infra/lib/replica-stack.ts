/**
 * The replica region's side of S3 cross-region replication: the buckets that receive the storage
 * policy's replicated buckets (uploads, invoices, archive, backups), versioned, encrypted, private.
 * In a lost region, restore from these (docs/runbooks/disaster-recovery.md).
 */
import { RemovalPolicy, Stack, type StackProps, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ShopFlowEnvironment } from './environments.ts';
import { REPLICATED, accessLogsBucket, bucketName, replicaKeyName } from './names.ts';
import { policyProps } from './storage.ts';

export class ReplicaStack extends Stack {
  readonly buckets: s3.Bucket[] = [];

  constructor(scope: Construct, id: string, props: StackProps & { environment: ShopFlowEnvironment }) {
    super(scope, id, props);
    const env = props.environment;
    // The primary region's replication role encrypts replicas with this key (found by its alias).
    const key = new kms.Key(this, 'ReplicaKey', {
      alias: replicaKeyName(env),
      enableKeyRotation: true,
      description: `ShopFlow ${env.name} replicas`,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    const logs = accessLogsBucket(this);
    for (const name of REPLICATED) {
      this.buckets.push(
        new s3.Bucket(this, `Replica-${name}`, {
          bucketName: bucketName(env, name, true),
          encryption: s3.BucketEncryption.KMS,
          encryptionKey: key,
          bucketKeyEnabled: true,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          enforceSSL: true,
          serverAccessLogsBucket: logs,
          serverAccessLogsPrefix: `${name}/`,
          // The same versioning, Object Lock and lifecycle as the bucket it copies.
          ...policyProps(name),
          removalPolicy: RemovalPolicy.RETAIN,
        }),
      );
    }
  }
}
