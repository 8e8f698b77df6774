/**
 * cdk-nag (AWS Solutions rules) findings this infrastructure accepts, each with its reason. Every
 * other finding fails `cdk synth` and the infra tests. Acknowledgments are scoped to the constructs
 * they are about, never to a whole stack, except where a rule concerns every resource of a kind.
 * The replica stack needs none: it passes every rule.
 */
import { Validations, type CfnElement, type Stack } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { REPLICATED, bucketName } from './names.ts';
import type { ShopFlowStack } from './shopflow-stack.ts';

/**
 * How many findings this file acknowledges over both environments (`npx tsx infra/bin/nag-count.ts`
 * counts them with every acknowledgment off); the infra test holds it to this figure.
 */
export const NAG_ACCEPTED = 91;

const ack = (scope: IConstruct | undefined, id: string | string[], reason: string) => {
  if (!scope) return;
  for (const one of Array.isArray(id) ? id : [id]) Validations.of(scope).acknowledge({ id: one, reason });
};
/** The IDs of IAM5 (wildcard) findings, one per wildcard action or resource. */
const iam5 = (items: string[]) => items.map((i) => `AwsSolutions-IAM5[${i}]`);
const managed = (policy: string) =>
  `AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/${policy}]`;
/** The constructs of `stack` whose path (inside the stack) matches. */
const find = (stack: Stack, pattern: RegExp) =>
  stack.node.findAll().filter((c) => pattern.test(c.node.path.slice(stack.node.path.length + 1)));

const ROTATION =
  "No rotation function fits these: the Redis AUTH token, the broker admin and the search master user are set in the engines' own CloudFormation properties (a rotation outside the template would drift from it), and the third-party keys in AppSecrets are issued by their providers; ECS injects secrets when a task starts, so each is rotated by the procedure in docs/deployment.md. The database secrets and the broker and search app users rotate on a schedule.";
const DEFAULT_PORT =
  'A non-default port adds no protection here: the engine is in isolated subnets and its security group admits only the ShopFlow tasks.';

export function acknowledgePrimary(stack: ShopFlowStack): void {
  // The database secrets are rotated by Secrets Manager (data.ts, databaseLogins): no acknowledgment.
  for (const c of find(stack, /^(CacheAuthToken|BrokerCredentials|SearchCredentials|AppSecrets)$/))
    ack(c, 'AwsSolutions-SMG4', ROTATION);
  for (const c of find(stack, /^WebhookSecretsKey$/))
    ack(
      c,
      'AwsSolutions-SMG4',
      'The outgoing webhooks signing secrets are sealed under this key: a scheduled rotation would make every stored one unreadable, so it is generated once per environment and kept (docs/deployment.md).',
    );
  ack(stack.database, 'AwsSolutions-RDS11', DEFAULT_PORT);
  ack(stack.replica, 'AwsSolutions-RDS11', DEFAULT_PORT);
  for (const c of find(stack, /^VerifyDatabase$/)) {
    ack(c, 'AwsSolutions-RDS11', DEFAULT_PORT);
    ack(
      c,
      'AwsSolutions-RDS3',
      'The scratch server backup verify restores onto holds nothing between verifications: a standby would protect no data.',
    );
  }
  ack(
    stack.replica,
    'CloudFormation-Validate::F3020',
    'cdk-nag (RDS2) wants StorageEncrypted stated on the replica; it is encrypted like its source either way.',
  );
  for (const c of find(stack, /^Cache$/)) ack(c, 'AwsSolutions-AEC5', DEFAULT_PORT);
  if (stack.target.name !== 'production')
    ack(
      stack.replica,
      'AwsSolutions-RDS3',
      'Staging keeps a single-AZ read replica to halve its cost; production runs it Multi-AZ.',
    );
  for (const c of find(stack, /^Search$/)) {
    const reason =
      'The domain is reachable only inside the VPC (its security group admits the ShopFlow tasks) and fine-grained access control authenticates every request with the internal user in Secrets Manager; an IAM-principal or IP-based policy would only duplicate that.';
    ack(c, 'AwsSolutions-OS3', reason);
    ack(c, 'AwsSolutions-OS5', reason);
  }
  for (const c of find(stack, /^DatabaseMonitoringRole$/))
    ack(
      c,
      managed('service-role/AmazonRDSEnhancedMonitoringRole'),
      'AmazonRDSEnhancedMonitoringRole is the role AWS defines for RDS enhanced monitoring (one role for the primary and its replica).',
    );
  for (const c of find(stack, /^EngineUsersRole$/))
    ack(
      c,
      iam5(['Resource::*']),
      "The network interfaces of a Lambda function in a VPC (ec2:DescribeNetworkInterfaces and DescribeSubnets have no resource-level permissions, and the interfaces Lambda creates have no ARN before they exist) and secretsmanager:GetRandomPassword, which aws-cdk-lib's rotation schedule grants and which has no resource. Every other statement of the role names its resources.",
    );
  ack(
    stack.api.loadBalancer,
    'AwsSolutions-EC23',
    'The API is public: its load balancer accepts HTTPS (and HTTP, redirected) from anywhere.',
  );
  for (const c of find(stack, /^Cdn$/)) {
    ack(
      stack, // reported on the stack
      'Annotation::@aws-cdk/aws-cloudfront-origins:wildcardKeyPolicyForOac',
      "The data key's policy lets any distribution of this account decrypt through CloudFront's service principal (to break the key-bucket-distribution cycle on the first deploy); narrow it to this distribution's id after it exists, as docs/deployment.md says.",
    );
    ack(
      c,
      'AwsSolutions-CFR1',
      'Product images are public content for every shopper; no country is excluded.',
    );
    ack(
      c,
      'AwsSolutions-CFR4',
      "Until the store's image domain and its ACM certificate (us-east-1) are set, the distribution uses CloudFront's default certificate, whose TLS policy cannot be raised; with a certificate, minimumProtocolVersion is TLS 1.2 (2021).",
    );
  }
  for (const c of [stack.api.taskDefinition, stack.worker.taskDefinition, stack.migrate, stack.roles])
    ack(
      c,
      'AwsSolutions-ECS2',
      "Only non-secret settings (endpoints, names, modes) are plain environment variables; every credential comes from Secrets Manager through the task's secrets.",
    );
  acknowledgeGrants(stack);
}

/** The IAM5 wildcards of CDK grants: the task roles' bucket grants and S3 replication. */
function acknowledgeGrants(stack: ShopFlowStack): void {
  const objectsOf = (keys: readonly string[]) =>
    keys.map(
      (k) =>
        `Resource::<${stack.getLogicalId(stack.buckets[k as keyof typeof stack.buckets].node.defaultChild as CfnElement)}.Arn>/*`,
    );
  // The actions are named one by one (compute.ts, BUCKET_ACTIONS): only the objects are wildcards.
  const grants = iam5(objectsOf(Object.keys(stack.buckets)));
  // The migration task has no bucket grant at all: only its execution role is acknowledged.
  for (const c of [stack.api.taskDefinition, stack.worker.taskDefinition])
    ack(
      c.taskRole,
      grants,
      "Object-level wildcards (bucket/*) on ShopFlow's own buckets: each role reads, writes or deletes objects by key, which the app chooses at run time, in its own buckets only, with the actions listed one by one (compute.ts, BUCKET_ACTIONS).",
    );
  for (const c of [stack.api.taskDefinition, stack.worker.taskDefinition, stack.migrate, stack.roles])
    ack(
      c.executionRole,
      iam5(['Resource::*']),
      'ecr:GetAuthorizationToken, which the ECS agent needs to pull the image, has no narrower resource; generated by aws-cdk-lib.',
    );
  for (const c of find(stack, /^ReplicationRole$/))
    ack(
      c,
      iam5([
        ...objectsOf(REPLICATED),
        ...REPLICATED.map((k) => `Resource::arn:aws:s3:::${bucketName(stack.target, k, true)}/*`),
        `Resource::arn:aws:kms:${stack.target.replicaRegion}:${stack.target.account}:key/*`,
      ]),
      'S3 replication reads every version of every object of the replicated buckets (storage policy) and writes them to their copies; the KMS key of the replica region is matched by its alias (condition kms:ResourceAliases).',
    );
}
