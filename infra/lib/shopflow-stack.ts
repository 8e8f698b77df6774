/**
 * ShopFlow on AWS, one stack per environment: the network, the managed engines that replace the
 * embedded defaults (RDS PostgreSQL, ElastiCache Redis, Amazon MQ for RabbitMQ, OpenSearch, S3),
 * CloudFront in front of product images, the api and worker services on ECS Fargate, a one-shot
 * migration task, and the alarms of the service objectives. Each part is built by its own module
 * (network, data, storage, settings, compute, cdn, alarms) into this stack's scope, so the logical
 * ids stay those of one flat stack.
 */
import type {
  aws_ec2 as ec2,
  aws_ecs as ecs,
  aws_ecs_patterns as ecsPatterns,
  aws_lambda as lambda,
  aws_rds as rds,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Duration, Fn, Stack, type StackProps, aws_cloudwatch as cloudwatch } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { alarms } from './alarms.ts';
import { engineUsers } from './engine-users.ts';
import { cdn } from './cdn.ts';
import { compute, loadBalancer } from './compute.ts';
import { brokerEngine, cacheEngine, databaseEngines, searchEngine } from './data.ts';
import type { ShopFlowEnvironment } from './environments.ts';
import { type BucketKey, accessLogsBucket } from './names.ts';
import { keys } from './keys.ts';
import { network } from './network.ts';
import { outputs } from './outputs.ts';
import { settings } from './settings.ts';
import { buckets } from './storage.ts';
import { protectLoadBalancer } from './waf.ts';

export {
  BUCKETS,
  type BucketKey,
  CONSUMERS,
  RDS_CA_BUNDLE,
  REPLICATED,
  accessLogsBucket,
  bucketName,
  replicaKeyName,
} from './names.ts';

export interface ShopFlowStackProps extends StackProps {
  environment: ShopFlowEnvironment;
  /** ACM certificate of the API's domain (HTTPS on the load balancer). */
  certificateArn: string;
  /**
   * CloudFront's web ACL, from the edge stack in us-east-1 (a cross-region reference: the stack
   * needs `crossRegionReferences: true`).
   */
  cdnWebAclArn: string;
}

export class ShopFlowStack extends Stack {
  readonly target: ShopFlowEnvironment;
  readonly vpc: ec2.Vpc;
  readonly database: rds.DatabaseInstance;
  readonly replica: rds.DatabaseInstanceReadReplica;
  readonly buckets: Record<BucketKey, s3.Bucket>;
  readonly api: ecsPatterns.ApplicationLoadBalancedFargateService;
  readonly worker: ecs.FargateService;
  readonly migrate: ecs.FargateTaskDefinition;
  readonly roles: ecs.FargateTaskDefinition;
  /** Creates the broker's and the search domain's app users (engine-users.ts). */
  readonly engineUsers: lambda.Function;
  /** Every ShopFlow variable the containers receive: plain values and secrets. */
  readonly shopflowEnvironment: Record<string, string>;
  readonly shopflowSecrets: Record<string, ecs.Secret>;

  /**
   * Three zones of the stack's region, resolved by CloudFormation at deploy (Fn::GetAZs): no zone
   * name is written in the template, and synthesis needs no AWS lookup.
   */
  override get availabilityZones(): string[] {
    return [0, 1, 2].map((i) => Fn.select(i, Fn.getAzs(this.region)));
  }

  constructor(scope: Construct, id: string, props: ShopFlowStackProps) {
    super(scope, id, props);
    const env = props.environment;
    this.target = env;
    const keySet = keys(this, env);
    const net = network(this, env);
    this.vpc = net.vpc;
    const { database, replica, verifyDatabase, appLogin, migrateLogin } = databaseEngines(
      this,
      env,
      net,
      keySet,
    );
    this.database = database;
    this.replica = replica;
    const { cache, cacheToken } = cacheEngine(this, env, net, keySet);
    const { broker, brokerSecret, brokerAppSecret, brokerSg } = brokerEngine(this, env, net, keySet);
    const { search, searchSecret, searchAppSecret, searchSg } = searchEngine(this, env, net, keySet);
    // The engines' app users the tasks connect as, made by the stack (custom resources).
    this.engineUsers = engineUsers(this, {
      net,
      logsKey: keySet.logs,
      broker,
      brokerSg,
      brokerSecret,
      brokerAppSecret,
      search,
      searchSg,
      searchSecret,
      searchAppSecret,
    });
    const accessLogs = accessLogsBucket(this);
    this.buckets = buckets(this, env, keySet, accessLogs);

    const lb = loadBalancer(this, env, net, accessLogs);
    protectLoadBalancer(this, env, lb);
    const distribution = cdn(this, this.buckets.productImages, env, accessLogs, props.cdnWebAclArn);
    const engines = {
      database,
      replica,
      verifyDatabase,
      appLogin,
      migrateLogin,
      cache,
      cacheToken,
      broker,
      brokerSecret,
      brokerAppSecret,
      search,
      searchSecret,
      searchAppSecret,
    };
    const shopflow = settings(
      this,
      env,
      keySet.secrets,
      engines,
      this.buckets,
      distribution.distributionDomainName,
    );
    this.shopflowEnvironment = shopflow.environment;
    this.shopflowSecrets = shopflow.secrets;
    const queueDepth = new cloudwatch.Metric({
      namespace: 'AWS/AmazonMQ',
      metricName: 'MessageCount',
      dimensionsMap: { Broker: broker.brokerName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    const services = compute(this, {
      env,
      net,
      logsKey: keySet.logs,
      settings: shopflow,
      buckets: this.buckets,
      loadBalancer: lb,
      certificateArn: props.certificateArn,
      queueDepth,
    });
    this.api = services.api;
    this.worker = services.worker;
    this.migrate = services.migrate;
    this.roles = services.roles;
    alarms(this, this, env, cache, broker, queueDepth, search);
    outputs(this, {
      net,
      cluster: this.api.cluster,
      migrate: this.migrate,
      roles: this.roles,
      lb,
      distribution,
      engineUsers: this.engineUsers,
    });
  }
}
