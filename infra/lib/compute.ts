/**
 * ECS on Fargate: the image from ECR; the api behind an HTTPS load balancer, the worker, and the
 * one-shot migration task, all autoscaled services with their container settings.
 */
import type { aws_cloudwatch as cloudwatch, aws_kms as kms, aws_s3 as s3 } from 'aws-cdk-lib';
import {
  Duration,
  RemovalPolicy,
  type Stack,
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
  key: kms.IKey;
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
}

/** A container's definition: ShopFlow's settings, its role, its logs and (services) its health check. */
function containers(stack: Stack, props: ComputeProps) {
  const { env, key, settings } = props;
  const repository = ecr.Repository.fromRepositoryName(stack, 'Repository', 'shopflow');
  const image = ecs.ContainerImage.fromEcrRepository(repository, env.imageTag);
  const logGroup = (role: string) =>
    new logs.LogGroup(stack, `Logs-${role}`, {
      retention: logs.RetentionDays.ONE_MONTH,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
  key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${stack.region}.amazonaws.com`));
  return (
    role: Role,
    command?: string[],
  ): ecsPatterns.ApplicationLoadBalancedTaskImageOptions & ecs.ContainerDefinitionOptions => ({
    image,
    // The image's `node` user: containers never run as root.
    user: '1000:1000',
    environment: { ...settings.environment, SHOPFLOW_ROLE: role === 'migrate' ? 'worker' : role },
    secrets: settings.secrets,
    logging: ecs.LogDrivers.awsLogs({ streamPrefix: role, logGroup: logGroup(role) }),
    ...(command ? { command } : {}),
    ...(role === 'migrate'
      ? {}
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
  const { env, net, key } = props;
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
    desiredCount: env.size.workerTasks.min,
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

  for (const task of [api.taskDefinition, workerTask, migrate]) {
    for (const b of Object.values(props.buckets)) b.grantReadWrite(task.taskRole);
    key.grantEncryptDecrypt(task.taskRole);
  }
  for (const b of ['archive', 'backups'] as const) props.buckets[b].grantPut(worker.taskDefinition.taskRole);
  return { api, worker, migrate };
}

function apiService(
  stack: Stack,
  props: ComputeProps,
  cluster: ecs.Cluster,
  container: ReturnType<typeof containers>,
): ecsPatterns.ApplicationLoadBalancedFargateService {
  const { env, net } = props;
  const api = new ecsPatterns.ApplicationLoadBalancedFargateService(stack, 'Api', {
    cluster,
    cpu: 1024,
    memoryLimitMiB: 2048,
    desiredCount: env.size.apiTasks.min,
    taskImageOptions: { ...container('api'), containerPort: PORT },
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
  // The pattern's task image options have no `user`: set it on the container definition.
  (api.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).addPropertyOverride(
    'ContainerDefinitions.0.User',
    '1000:1000',
  );
  api.targetGroup.configureHealthCheck({
    path: '/health/ready',
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
