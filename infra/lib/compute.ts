/**
 * ECS on Fargate: the image from ECR; the api behind an HTTPS load balancer, the worker, and the
 * one-shot migration task, all autoscaled services with their container settings.
 */
import type { aws_cloudwatch as cloudwatch, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import {
  Duration,
  RemovalPolicy,
  Stack,
  aws_certificatemanager as acm,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_ecs_patterns as ecsPatterns,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_logs as logs,
} from 'aws-cdk-lib';
import { AdjustmentType } from 'aws-cdk-lib/aws-applicationautoscaling';
import type { ShopFlowEnvironment } from './environments.ts';
import { type BucketKey, PORT } from './names.ts';
import type { Network } from './network.ts';
import type { Settings } from './settings.ts';

type Role = 'api' | 'worker' | 'migrate';

/** The public load balancer of the API (its access logs in the stack's log bucket). */
export function loadBalancer(
  stack: Stack,
  env: ShopFlowEnvironment,
  net: Network,
  accessLogs: s3.Bucket,
): elbv2.ApplicationLoadBalancer {
  const lb = new elbv2.ApplicationLoadBalancer(stack, 'LoadBalancer', {
    vpc: net.vpc,
    internetFacing: true,
    vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
    dropInvalidHeaderFields: true,
    deletionProtection: env.name === 'production',
  });
  lb.logAccessLogs(accessLogs, 'alb');
  return lb;
}

export interface ComputeProps {
  env: ShopFlowEnvironment;
  net: Network;
  /** Encrypts the containers' log groups (and nothing else). */
  logsKey: kms.IKey;
  settings: Settings;
  buckets: Record<BucketKey, s3.Bucket>;
  loadBalancer: elbv2.ApplicationLoadBalancer;
  certificateArn: string;
  /** The broker's queue depth: the worker scales on it. */
  queueDepth: cloudwatch.IMetric;
}

export interface Compute {
  api: ecsPatterns.ApplicationLoadBalancedFargateService;
  worker: ecs.FargateService;
  migrate: ecs.FargateTaskDefinition;
  /** `shopflow migrate roles` with the master secret: the database users (before migrate up). */
  roles: ecs.FargateTaskDefinition;
}

/** A container's definition: ShopFlow's settings, its role, its logs and (services) its health check. */
function containers(stack: Stack, props: ComputeProps) {
  const { env, settings } = props;
  const repository = imageRepository(stack, env);
  const image = ecs.ContainerImage.fromEcrRepository(repository, env.imageTag);
  const migrateImage = ecs.ContainerImage.fromEcrRepository(repository, env.migrateImageTag);
  const logGroup = (role: string) =>
    new logs.LogGroup(stack, `Logs-${role}`, {
      retention: logs.RetentionDays.ONE_MONTH,
      encryptionKey: props.logsKey,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  props.logsKey.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`));
  // Each role its own database login: the app user (api, worker), the migrate user (migrations), or
  // (the one-off roles task) the master user with the two logins' passwords it sets.
  const logins = (role: Role, rolesTask: boolean) =>
    rolesTask
      ? settings.rolesTask
      : {
          ...(role === 'migrate' ? settings.databaseLogin.migrate : settings.databaseLogin.app),
          ...(role === 'worker' ? settings.verifyLogin : {}),
        };
  return (role: Role, command?: string[]): ecs.ContainerDefinitionOptions => ({
    image: role === 'migrate' ? migrateImage : image,
    // The image's `node` user: containers never run as root.
    user: '1000:1000',
    environment: { ...settings.environment, SHOPFLOW_ROLE: role === 'migrate' ? 'worker' : role },
    secrets: { ...settings.secrets, ...logins(role, command?.[1] === 'roles') },
    logging: ecs.LogDrivers.awsLogs({
      streamPrefix: command?.[1] === 'roles' ? 'roles' : role,
      logGroup: logGroup(command?.[1] === 'roles' ? 'roles' : role),
    }),
    ...(command ? { command } : {}),
    ...(role === 'migrate'
      ? {
          // Migrations take their own timeouts (migrations/README.md): a lock they wait for gives
          // up quickly instead of queueing every query behind it; a statement (CREATE INDEX
          // CONCURRENTLY on a large table) runs as long as it needs.
          environment: {
            ...settings.environment,
            SHOPFLOW_ROLE: 'worker',
            MIGRATION_LOCK_TIMEOUT_MS: '5000',
          },
        }
      : {
          healthCheck: {
            command: [
              'CMD',
              'node',
              '-e',
              `fetch('http://127.0.0.1:${PORT}/health/live').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
            ],
            interval: Duration.seconds(15),
            timeout: Duration.seconds(5),
            startPeriod: Duration.seconds(30),
            retries: 3,
          },
        }),
    portMappings: [{ containerPort: PORT }],
  });
}

export function compute(stack: Stack, props: ComputeProps): Compute {
  const { env, net } = props;
  const cluster = new ecs.Cluster(stack, 'Cluster', {
    vpc: net.vpc,
    containerInsightsV2: ecs.ContainerInsights.ENHANCED,
  });
  const container = containers(stack, props);
  const api = apiService(stack, props, cluster, container);

  const workerTask = new ecs.FargateTaskDefinition(stack, 'WorkerTask', { cpu: 1024, memoryLimitMiB: 2048 });
  workerTask.addContainer('worker', container('worker'));
  const worker = new ecs.FargateService(stack, 'Worker', {
    cluster,
    taskDefinition: workerTask,
    // No desiredCount: autoscaling owns the count (a template value would reset it on every deploy).
    vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [net.appSg],
    circuitBreaker: { rollback: true },
    minHealthyPercent: 100,
  });
  worker
    .autoScaleTaskCount({ minCapacity: env.size.workerTasks.min, maxCapacity: env.size.workerTasks.max })
    .scaleOnMetric('QueueDepth', {
      metric: props.queueDepth,
      scalingSteps: [
        { upper: 100, change: -1 },
        { lower: 1000, change: +1 },
        { lower: 10000, change: +2 },
      ],
      adjustmentType: AdjustmentType.CHANGE_IN_CAPACITY,
      cooldown: Duration.minutes(3),
    });

  // The release step: `aws ecs run-task --task-definition <this> --overrides command=[migrate,up]`
  // before a new version's services roll (never on start; see docs/deployment.md).
  const migrate = new ecs.FargateTaskDefinition(stack, 'MigrateTask', { cpu: 512, memoryLimitMiB: 1024 });
  migrate.addContainer('migrate', container('migrate', ['migrate', 'up']));
  // Before migrate up, once per release (idempotent): creates or updates the app and migrate
  // database users and their grants with the master secret, which no other task receives.
  const roles = new ecs.FargateTaskDefinition(stack, 'DatabaseRolesTask', { cpu: 256, memoryLimitMiB: 512 });
  roles.addContainer('roles', container('migrate', ['migrate', 'roles']));

  grantBuckets(props.buckets, api.taskDefinition.taskRole, workerTask.taskRole);
  return { api, worker, migrate, roles };
}

/**
 * The S3 and KMS actions ShopFlow's object store performs (src/platform/storage), named one by one
 * instead of the grouped wildcards of CDK grants (s3:GetObject*, s3:List*, kms:ReEncrypt*...): a
 * read role gets, heads and lists objects and their versions; a write role also puts (single and
 * multipart), copies, restores from Glacier and deletes objects and versions (erasure deletes every
 * version by id). Deleting a locked backup version still needs s3:BypassGovernanceRetention, which
 * no role has.
 */
export const BUCKET_ACTIONS = {
  read: {
    bucket: ['s3:ListBucket', 's3:ListBucketVersions'],
    objects: ['s3:GetObject', 's3:GetObjectVersion'],
    key: ['kms:Decrypt'],
  },
  write: {
    bucket: ['s3:ListBucket', 's3:ListBucketVersions', 's3:ListBucketMultipartUploads'],
    objects: [
      's3:GetObject',
      's3:GetObjectVersion',
      's3:PutObject',
      's3:DeleteObject',
      's3:DeleteObjectVersion',
      's3:AbortMultipartUpload',
      's3:ListMultipartUploadParts',
      's3:RestoreObject',
    ],
    key: ['kms:Decrypt', 'kms:GenerateDataKey'],
  },
} as const;

function grantBucket(bucket: s3.Bucket, role: iam.IRole, access: keyof typeof BUCKET_ACTIONS): void {
  const actions = BUCKET_ACTIONS[access];
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...actions.bucket], resources: [bucket.bucketArn] }),
  );
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({ actions: [...actions.objects], resources: [bucket.arnForObjects('*')] }),
  );
  // The bucket's own key, and only for S3's use of it (SSE-KMS).
  role.addToPrincipalPolicy(
    new iam.PolicyStatement({
      actions: [...actions.key],
      resources: [bucket.encryptionKey!.keyArn],
      conditions: { StringEquals: { 'kms:ViaService': `s3.${Stack.of(bucket).region}.amazonaws.com` } },
    }),
  );
}

/**
 * Each role's buckets: the api serves and stores images and uploads and reads invoices, archived
 * orders and the backups list; the worker (jobs and consumers) writes invoices, archives and
 * backups and prunes them; the migration task touches no bucket. Each grant carries its bucket's
 * key only.
 */
function grantBuckets(buckets: Record<BucketKey, s3.Bucket>, api: iam.IRole, worker: iam.IRole): void {
  grantBucket(buckets.productImages, api, 'write');
  grantBucket(buckets.userUploads, api, 'write');
  for (const b of ['invoices', 'archive', 'backups'] as const) grantBucket(buckets[b], api, 'read');
  for (const b of Object.values(buckets)) grantBucket(b, worker, 'write');
}

/** The environment's image repository: tags immutable, every push scanned, old untagged images expire. */
function imageRepository(stack: Stack, env: ShopFlowEnvironment): ecr.Repository {
  // Every pushed image is copied to the recovery region. The replication configuration is one per
  // registry (account and region), so the production stack owns it for every shopflow- repository.
  if (env.name === 'production')
    new ecr.CfnReplicationConfiguration(stack, 'ImageReplication', {
      replicationConfiguration: {
        rules: [
          {
            destinations: [{ region: env.replicaRegion, registryId: env.account }],
            repositoryFilters: [{ filter: 'shopflow-', filterType: 'PREFIX_MATCH' }],
          },
        ],
      },
    });
  return new ecr.Repository(stack, 'Repository', {
    repositoryName: `shopflow-${env.name}`,
    imageTagMutability: ecr.TagMutability.IMMUTABLE,
    imageScanOnPush: true,
    encryption: ecr.RepositoryEncryption.KMS,
    lifecycleRules: [{ tagStatus: ecr.TagStatus.UNTAGGED, maxImageAge: Duration.days(14) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });
}

function apiService(
  stack: Stack,
  props: ComputeProps,
  cluster: ecs.Cluster,
  container: ReturnType<typeof containers>,
): ecsPatterns.ApplicationLoadBalancedFargateService {
  const { env, net } = props;
  // The task definition is built here, not from the pattern's task image options: those have no
  // health check, user or log group of ours, and the pattern dropped them.
  const taskDefinition = new ecs.FargateTaskDefinition(stack, 'ApiTask', { cpu: 1024, memoryLimitMiB: 2048 });
  taskDefinition.addContainer('api', container('api'));
  const api = new ecsPatterns.ApplicationLoadBalancedFargateService(stack, 'Api', {
    cluster,
    // No desiredCount: autoscaling owns the count (a template value would reset it on every deploy).
    taskDefinition,
    taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
    securityGroups: [net.appSg],
    loadBalancer: props.loadBalancer,
    protocol: elbv2.ApplicationProtocol.HTTPS,
    certificate: acm.Certificate.fromCertificateArn(stack, 'Certificate', props.certificateArn),
    sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
    redirectHTTP: true,
    circuitBreaker: { rollback: true },
    minHealthyPercent: 100,
    maxHealthyPercent: 200,
    healthCheckGracePeriod: Duration.seconds(60),
  });
  // Liveness, not readiness: the load balancer's failed checks make ECS replace a task, and
  // /health/ready is 503 while the database fails over (60-120 s), which replaced every task.
  // Readiness stays what the app reports to callers and monitors (docs/deployment.md).
  api.targetGroup.configureHealthCheck({
    path: '/health/live',
    healthyHttpCodes: '200',
    interval: Duration.seconds(15),
  });
  // In-flight requests finish before a task stops (SHUTDOWN_GRACE_MS is 10 s).
  api.targetGroup.setAttribute('deregistration_delay.timeout_seconds', '15');
  const apiScaling = api.service.autoScaleTaskCount({
    minCapacity: env.size.apiTasks.min,
    maxCapacity: env.size.apiTasks.max,
  });
  apiScaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
  apiScaling.scaleOnRequestCount('Requests', {
    targetGroup: api.targetGroup,
    // Requests per task per minute: 30,000 is 500 req/s, about half of what one 1-vCPU task
    // serves of a store's usual mix (docs/deployment.md, sizing): headroom for bursts.
    requestsPerTarget: 30_000,
  });
  return api;
}
