/**
 * Names shared by the stacks of an environment (primary and replica region) and by the tests:
 * ShopFlow's buckets and their physical names, the event consumers, the replica key's alias.
 */
import { Duration, RemovalPolicy, aws_s3 as s3 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { REPLICATED as POLICY_REPLICATED } from '../../src/platform/storage/policy.ts';
import type { ShopFlowEnvironment } from './environments.ts';

/** The five buckets of src/config.ts (S3_BUCKET_*), by ShopFlow's names for them. */
export const BUCKETS = {
  productImages: 'S3_BUCKET_PRODUCT_IMAGES',
  userUploads: 'S3_BUCKET_USER_UPLOADS',
  invoices: 'S3_BUCKET_INVOICES',
  archive: 'S3_BUCKET_ARCHIVE',
  backups: 'S3_BUCKET_BACKUPS',
} as const;
export type BucketKey = keyof typeof BUCKETS;
/** Replicated to the recovery region (the storage policy says which). */
export const REPLICATED: readonly BucketKey[] = POLICY_REPLICATED;

/**
 * The event consumers of ShopFlow that have a queue of their own (`shopflow.<name>`), each with a
 * dead-letter queue `shopflow.<name>.dead` that the stack alarms on. An inline consumer (the
 * webhook fan-out, `ConsumerSpec.inline` in src/platform/events/bus.ts) is run by the relay and
 * has neither, so it is not listed.
 */
export const CONSUMERS = ['invoices', 'search-indexer', 'payments', 'privacy-eraser'];

/** The part of a bucket's name that says what it holds. */
const SHORT: Record<BucketKey, string> = {
  productImages: 'images',
  userUploads: 'uploads',
  invoices: 'invoices',
  archive: 'archive',
  backups: 'backups',
};

/**
 * A bucket's name: environment, account and the region it lives in (a bucket rebuilt in another
 * region never collides with one that is gone or still being deleted), `-copy` for the replicas.
 * At most 61 characters with the longest region names (S3 allows 63).
 */
export const bucketName = (env: ShopFlowEnvironment, key: BucketKey, replica = false) =>
  `shopflow-${env.name}-${env.account}-${replica ? env.replicaRegion : env.region}-${SHORT[key]}${replica ? '-copy' : ''}`;

export const replicaKeyName = (env: ShopFlowEnvironment) => `shopflow-${env.name}-replica`;

export const replicaKeyAlias = (env: ShopFlowEnvironment) =>
  `arn:aws:kms:${env.replicaRegion}:${env.account}:alias/${replicaKeyName(env)}`;

/**
 * A stack's bucket for access logs (S3 server access logs, the load balancer's, CloudFront's):
 * private, TLS only, versioned, writable by the log delivery services, kept a year.
 */
export const accessLogsBucket = (scope: Construct) =>
  new s3.Bucket(scope, 'AccessLogs', {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    versioned: true,
    objectOwnership: s3.ObjectOwnership.OBJECT_WRITER,
    lifecycleRules: [{ expiration: Duration.days(365) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });

/** The port ShopFlow listens on in its containers. */
export const PORT = 3000;
/** The RDS CA bundle inside the image (see the Dockerfile). */
export const RDS_CA_BUNDLE = '/etc/ssl/certs/rds-global-bundle.pem';
