/**
 * ShopFlow on AWS, one stack per environment: the network, the managed engines that replace the
 * embedded defaults (RDS PostgreSQL, ElastiCache Redis, Amazon MQ for RabbitMQ, OpenSearch, S3),
 * CloudFront in front of product images, the api and worker services on ECS Fargate, a one-shot
 * migration task, and the alarms of the service objectives. Each ShopFlow setting a container
 * receives is named after the variable in src/config.ts, from the resource that fills it.
 */
import {
  Duration,
  Fn,
  RemovalPolicy,
  Stack,
  type StackProps,
  aws_amazonmq as mq,
  aws_certificatemanager as acm,
  aws_cloudfront as cloudfront,
  aws_cloudfront_origins as origins,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  aws_ec2 as ec2,
  aws_ecr as ecr,
  aws_ecs as ecs,
  aws_ecs_patterns as ecsPatterns,
  aws_elasticache as elasticache,
  aws_elasticloadbalancingv2 as elbv2,
  aws_iam as iam,
  aws_kms as kms,
  aws_logs as logs,
  aws_opensearchservice as opensearch,
  aws_rds as rds,
  aws_s3 as s3,
  aws_secretsmanager as secretsmanager,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import { AdjustmentType } from 'aws-cdk-lib/aws-applicationautoscaling';
import type { Construct } from 'constructs';
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
/** Replicated to another region: what cannot be rebuilt from anything else. */
export const REPLICATED: BucketKey[] = ['invoices', 'backups'];

/** The event consumers of ShopFlow; each has a dead-letter queue `shopflow.<name>.dead`. */
export const CONSUMERS = ['invoices', 'search-indexer', 'payments', 'privacy-eraser'];

export const bucketName = (env: ShopFlowEnvironment, key: BucketKey, replica = false) =>
  `shopflow-${env.name}-${env.account}-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}${replica ? '-replica' : ''}`;

export const replicaKeyName = (env: ShopFlowEnvironment) => `shopflow-${env.name}-replica`;

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
const replicaKeyAlias = (env: ShopFlowEnvironment) =>
  `arn:aws:kms:${env.replicaRegion}:${env.account}:alias/${replicaKeyName(env)}`;

const PORT = 3000;
/** The RDS CA bundle inside the image (see the Dockerfile). */
export const RDS_CA_BUNDLE = '/etc/ssl/certs/rds-global-bundle.pem';

export interface ShopFlowStackProps extends StackProps {
  environment: ShopFlowEnvironment;
  /** ACM certificate of the API's domain (HTTPS on the load balancer). */
  certificateArn: string;
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
  /** Every ShopFlow variable the containers receive: plain values and secrets. */
  readonly shopflowEnvironment: Record<string, string>;
  readonly shopflowSecrets: Record<string, ecs.Secret>;

  private readonly zones: string[];

  /** The environment's zones, given: without this, constructs would look them up in AWS at synth. */
  override get availabilityZones(): string[] {
    return this.zones;
  }

  constructor(scope: Construct, id: string, props: ShopFlowStackProps) {
    super(scope, id, props);
    this.zones = props.environment.availabilityZones;
    const env = props.environment;
    this.target = env;
    const production = env.name === 'production';
    const removal = production ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT;
    const key = new kms.Key(this, 'DataKey', {
      enableKeyRotation: true,
      description: `ShopFlow ${env.name} data`,
    });

    // --- Network: three AZs; public (load balancer), private with egress (tasks), isolated (data).
    this.vpc = new ec2.Vpc(this, 'Vpc', {
      availabilityZones: env.availabilityZones,
      natGateways: env.size.natGateways,
      subnetConfiguration: [
        { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
        { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
        { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
      ],
      flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.ALL } },
    });
    const dataSubnets = { subnetType: ec2.SubnetType.PRIVATE_ISOLATED };
    const appSg = new ec2.SecurityGroup(this, 'AppSecurityGroup', {
      vpc: this.vpc,
      description: 'ShopFlow api and worker tasks',
    });
    const dataSg = (name: string, port: number) => {
      const sg = new ec2.SecurityGroup(this, `${name}SecurityGroup`, {
        vpc: this.vpc,
        description: `${name}: reachable from ShopFlow tasks only`,
        allowAllOutbound: false,
      });
      sg.addIngressRule(appSg, ec2.Port.tcp(port), `ShopFlow tasks to ${name}`);
      return sg;
    };

    // --- PostgreSQL 15: Multi-AZ, 30 days of automated backups (point-in-time recovery), encrypted.
    const parameters = new rds.ParameterGroup(this, 'DatabaseParameters', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      description: 'ShopFlow: TLS only, timeouts, statement logging',
      parameters: {
        // The extensions the migrations create (pg_trgm, unaccent) need no preloading on RDS.
        'rds.force_ssl': '1',
        // A ceiling above ShopFlow's own per-connection DB_STATEMENT_TIMEOUT_MS (30 s).
        statement_timeout: '60000',
        idle_in_transaction_session_timeout: '60000',
        log_min_duration_statement: '500',
        // pg_stat_statements for Performance Insights' SQL view.
        shared_preload_libraries: 'pg_stat_statements',
      },
    });
    const dbCredentials = rds.Credentials.fromGeneratedSecret('shopflow', {
      secretName: `shopflow/${env.name}/database`,
    });
    this.database = new rds.DatabaseInstance(this, 'Database', {
      engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
      instanceType: new ec2.InstanceType(env.size.dbInstance.replace(/^db\./, '')),
      vpc: this.vpc,
      vpcSubnets: dataSubnets,
      securityGroups: [dataSg('Database', 5432)],
      credentials: dbCredentials,
      databaseName: 'shopflow',
      multiAz: true,
      allocatedStorage: env.size.dbAllocatedGiB,
      maxAllocatedStorage: env.size.dbAllocatedGiB * 4,
      storageType: rds.StorageType.GP3,
      storageEncrypted: true,
      storageEncryptionKey: key,
      backupRetention: Duration.days(30),
      preferredBackupWindow: '05:00-06:00',
      deleteAutomatedBackups: false,
      deletionProtection: true,
      removalPolicy: removal,
      parameterGroup: parameters,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: key,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql', 'upgrade'],
      autoMinorVersionUpgrade: true,
      iamAuthentication: true,
    });
    this.replica = new rds.DatabaseInstanceReadReplica(this, 'DatabaseReplica', {
      sourceDatabaseInstance: this.database,
      instanceType: new ec2.InstanceType(env.size.dbInstance.replace(/^db\./, '')),
      vpc: this.vpc,
      vpcSubnets: dataSubnets,
      securityGroups: this.database.connections.securityGroups,
      // Encrypted like its source, with its key; stated for the record (cdk-nag RDS2).
      storageEncrypted: true,
      // Multi-AZ in production: reads keep a standby too.
      multiAz: production,
      parameterGroup: parameters,
      deletionProtection: true,
      removalPolicy: removal,
      enablePerformanceInsights: true,
      performanceInsightEncryptionKey: key,
      monitoringInterval: Duration.seconds(60),
      cloudwatchLogsExports: ['postgresql'],
      autoMinorVersionUpgrade: true,
      iamAuthentication: true,
    });

    // --- Redis 7, cluster mode, TLS and AUTH, Multi-AZ, daily snapshots.
    const cacheToken = new secretsmanager.Secret(this, 'CacheAuthToken', {
      secretName: `shopflow/${env.name}/redis`,
      encryptionKey: key,
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
    });
    const cacheSubnets = new elasticache.CfnSubnetGroup(this, 'CacheSubnets', {
      description: 'ShopFlow Redis',
      subnetIds: this.vpc.selectSubnets(dataSubnets).subnetIds,
    });
    const cacheSg = dataSg('Cache', 6379);
    const cache = new elasticache.CfnReplicationGroup(this, 'Cache', {
      replicationGroupDescription: `ShopFlow ${env.name} cache, sessions, rate limits`,
      engine: 'redis',
      engineVersion: '7.1',
      cacheParameterGroupName: 'default.redis7.cluster.on',
      cacheNodeType: env.size.cacheNode,
      clusterMode: 'enabled',
      numNodeGroups: env.size.cacheShards,
      replicasPerNodeGroup: 1,
      automaticFailoverEnabled: true,
      multiAzEnabled: true,
      transitEncryptionEnabled: true,
      atRestEncryptionEnabled: true,
      kmsKeyId: key.keyId,
      authToken: cacheToken.secretValue.unsafeUnwrap(), // a dynamic reference, resolved by CloudFormation
      port: 6379,
      cacheSubnetGroupName: cacheSubnets.ref,
      securityGroupIds: [cacheSg.securityGroupId],
      // ElastiCache has no AOF: snapshots are daily, so a lost cluster loses up to a day of
      // sessions and rate-limit counts (customers sign in again). docs/deployment.md says more.
      snapshotRetentionLimit: 7,
      snapshotWindow: '06:00-07:00',
      autoMinorVersionUpgrade: true,
    });

    // --- RabbitMQ (Amazon MQ), a three-node cluster across AZs.
    const brokerSecret = this.credentials('BrokerCredentials', `shopflow/${env.name}/rabbitmq`, key, {
      excludePunctuation: true,
    });
    const brokerSg = dataSg('Broker', 5671);
    const broker = new mq.CfnBroker(this, 'Broker', {
      brokerName: `shopflow-${env.name}`,
      engineType: 'RABBITMQ',
      engineVersion: '3.13',
      hostInstanceType: env.size.mqInstance,
      deploymentMode: 'CLUSTER_MULTI_AZ',
      publiclyAccessible: false,
      autoMinorVersionUpgrade: true,
      subnetIds: this.vpc.selectSubnets(dataSubnets).subnetIds,
      securityGroups: [brokerSg.securityGroupId],
      logs: { general: true },
      encryptionOptions: { useAwsOwnedKey: false, kmsKeyId: key.keyArn },
      users: [
        {
          username: brokerSecret.secretValueFromJson('username').unsafeUnwrap(),
          password: brokerSecret.secretValueFromJson('password').unsafeUnwrap(),
        },
      ],
    });

    // --- OpenSearch 2: three nodes over three AZs, encrypted, fine-grained access control.
    const searchSecret = this.credentials('SearchCredentials', `shopflow/${env.name}/opensearch`, key, {
      requireEachIncludedType: true,
    });
    const searchSg = dataSg('Search', 443);
    const searchLogs = new logs.LogGroup(this, 'SearchLogs', { retention: logs.RetentionDays.ONE_MONTH });
    const search = new opensearch.Domain(this, 'Search', {
      version: opensearch.EngineVersion.OPENSEARCH_2_19,
      vpc: this.vpc,
      vpcSubnets: [dataSubnets],
      securityGroups: [searchSg],
      capacity: {
        dataNodes: env.size.searchNodes,
        dataNodeInstanceType: env.size.searchInstance,
        masterNodes: 3,
        masterNodeInstanceType: env.size.searchInstance,
        multiAzWithStandbyEnabled: false,
      },
      zoneAwareness: { enabled: true, availabilityZoneCount: 3 },
      ebs: { volumeSize: 50, volumeType: ec2.EbsDeviceVolumeType.GP3 },
      encryptionAtRest: { enabled: true, kmsKey: key },
      nodeToNodeEncryption: true,
      enforceHttps: true,
      tlsSecurityPolicy: opensearch.TLSSecurityPolicy.TLS_1_2,
      fineGrainedAccessControl: {
        masterUserName: 'shopflow',
        masterUserPassword: searchSecret.secretValueFromJson('password'),
      },
      logging: {
        slowSearchLogEnabled: true,
        slowSearchLogGroup: searchLogs,
        slowIndexLogEnabled: true,
        slowIndexLogGroup: searchLogs,
        appLogEnabled: true,
        appLogGroup: searchLogs,
        auditLogEnabled: true,
        auditLogGroup: searchLogs,
      },
      // Derived data (rebuilt by `shopflow search reindex`): kept in production, dropped in staging.
      removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    search.addAccessPolicies(
      new iam.PolicyStatement({
        actions: ['es:ESHttp*'],
        principals: [new iam.AnyPrincipal()],
        resources: [`${search.domainArn}/*`],
        // Fine-grained access control decides who may do what; only the VPC can reach the domain.
      }),
    );

    // --- S3: versioned, encrypted, private, TLS only; access logs to their own bucket.
    const accessLogs = accessLogsBucket(this);
    const replicationRole = new iam.Role(this, 'ReplicationRole', {
      assumedBy: new iam.ServicePrincipal('s3.amazonaws.com'),
      description: 'S3 cross-region replication of invoices and backups',
    });
    const lifecycle: Record<BucketKey, s3.LifecycleRule[]> = {
      productImages: [
        { noncurrentVersionExpiration: Duration.days(90) },
        // Console uploads wait under incoming/ until filed under products/; unfiled ones expire.
        { prefix: 'incoming/', expiration: Duration.days(1) },
      ],
      userUploads: [
        { noncurrentVersionExpiration: Duration.days(30) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
      invoices: [
        {
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(90) },
          ],
        },
      ],
      // Archived orders go to Glacier as soon as they are verified (ShopFlow moves them itself; this
      // rule is the backstop for any object it did not).
      archive: [
        { transitions: [{ storageClass: s3.StorageClass.GLACIER, transitionAfter: Duration.days(1) }] },
      ],
      // `backup prune` keeps BACKUP_RETENTION_DAYS (30) and never the newest verified backup; the
      // bucket expires what is 30 days old as the backstop, the same as the database's retention.
      backups: [
        { expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(7) },
        { abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    };
    this.buckets = {} as Record<BucketKey, s3.Bucket>;
    for (const name of Object.keys(BUCKETS) as BucketKey[]) {
      const bucket = new s3.Bucket(this, `Bucket-${name}`, {
        bucketName: bucketName(env, name),
        encryption: s3.BucketEncryption.KMS,
        encryptionKey: key,
        bucketKeyEnabled: true,
        blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
        enforceSSL: true,
        versioned: true,
        serverAccessLogsBucket: accessLogs,
        serverAccessLogsPrefix: `${name}/`,
        lifecycleRules: lifecycle[name],
        // Objects are the store's records (invoices, backups): never deleted with the stack.
        removalPolicy: RemovalPolicy.RETAIN,
      });
      this.buckets[name] = bucket;
      if (REPLICATED.includes(name)) {
        const destination = `arn:aws:s3:::${bucketName(env, name, true)}`;
        bucket.grantRead(replicationRole);
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
    }

    // --- Secrets ShopFlow needs besides the generated ones: filled in by the operator.
    const appSecrets = new secretsmanager.Secret(this, 'AppSecrets', {
      secretName: `shopflow/${env.name}/app`,
      encryptionKey: key,
      description: 'STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET: set them after the first deploy',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({
          STRIPE_SECRET_KEY: 'sk_live_replace_me',
          STRIPE_WEBHOOK_SECRET: 'whsec_replace_me',
        }),
        generateStringKey: 'METRICS_TOKEN',
        passwordLength: 48,
        excludePunctuation: true,
      },
    });

    // --- ECS: the image from ECR; api behind an HTTPS load balancer; worker; migration task.
    const cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: this.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    const repository = ecr.Repository.fromRepositoryName(this, 'Repository', 'shopflow');
    const image = ecs.ContainerImage.fromEcrRepository(repository, env.imageTag);

    const loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'LoadBalancer', {
      vpc: this.vpc,
      internetFacing: true,
      vpcSubnets: { subnetType: ec2.SubnetType.PUBLIC },
      dropInvalidHeaderFields: true,
      deletionProtection: production,
    });
    loadBalancer.logAccessLogs(accessLogs, 'alb');
    const cdn = this.cdn(env, accessLogs, loadBalancer);
    this.shopflowEnvironment = {
      NODE_ENV: 'production',
      HOST: '0.0.0.0',
      PORT: String(PORT),
      DB_HOST: this.database.dbInstanceEndpointAddress,
      DB_PORT: this.database.dbInstanceEndpointPort,
      DB_NAME: 'shopflow',
      DB_READ_HOST: this.replica.dbInstanceEndpointAddress,
      DB_SSL_MODE: 'verify-full',
      DB_SSL_ROOT_CERT: RDS_CA_BUNDLE,
      REDIS_CLUSTER_NODES: Fn.join(':', [
        cache.attrConfigurationEndPointAddress,
        cache.attrConfigurationEndPointPort,
      ]),
      REDIS_TLS: 'true',
      SESSION_STORE: 'redis',
      AMQP_URL: Fn.select(0, broker.attrAmqpEndpoints),
      SEARCH_ENGINE: 'opensearch',
      OPENSEARCH_URL: `https://${search.domainEndpoint}`,
      S3_REGION: this.region,
      ...(Object.fromEntries(
        (Object.keys(BUCKETS) as BucketKey[]).map((k) => [BUCKETS[k], this.buckets[k].bucketName]),
      ) as Record<string, string>),
      CDN_BASE_URL: `https://${cdn.distributionDomainName}`,
      PAYMENT_PROVIDER: 'stripe',
      TRUST_PROXY: '1',
      LOG_LEVEL: 'info',
      // The outbox gauges as CloudWatch metrics (embedded in the logs), for the outbox-lag alarm.
      CRON_PUBLISH_CLOUDWATCH_METRICS: '* * * * *',
      METRICS_ENVIRONMENT: env.name,
    };
    this.shopflowSecrets = {
      DB_USER: ecs.Secret.fromSecretsManager(this.database.secret!, 'username'),
      DB_PASSWORD: ecs.Secret.fromSecretsManager(this.database.secret!, 'password'),
      REDIS_PASSWORD: ecs.Secret.fromSecretsManager(cacheToken),
      AMQP_USERNAME: ecs.Secret.fromSecretsManager(brokerSecret, 'username'),
      AMQP_PASSWORD: ecs.Secret.fromSecretsManager(brokerSecret, 'password'),
      OPENSEARCH_USERNAME: ecs.Secret.fromSecretsManager(searchSecret, 'username'),
      OPENSEARCH_PASSWORD: ecs.Secret.fromSecretsManager(searchSecret, 'password'),
      STRIPE_SECRET_KEY: ecs.Secret.fromSecretsManager(appSecrets, 'STRIPE_SECRET_KEY'),
      STRIPE_WEBHOOK_SECRET: ecs.Secret.fromSecretsManager(appSecrets, 'STRIPE_WEBHOOK_SECRET'),
      METRICS_TOKEN: ecs.Secret.fromSecretsManager(appSecrets, 'METRICS_TOKEN'),
    };
    const logGroup = (role: string) =>
      new logs.LogGroup(this, `Logs-${role}`, {
        retention: logs.RetentionDays.ONE_MONTH,
        encryptionKey: key,
        removalPolicy: RemovalPolicy.DESTROY,
      });
    key.grantEncryptDecrypt(new iam.ServicePrincipal(`logs.${this.region}.amazonaws.com`));
    const container = (
      role: 'api' | 'worker' | 'migrate',
      command?: string[],
    ): ecsPatterns.ApplicationLoadBalancedTaskImageOptions & ecs.ContainerDefinitionOptions => ({
      image,
      // The image's `node` user: containers never run as root.
      user: '1000:1000',
      environment: { ...this.shopflowEnvironment, SHOPFLOW_ROLE: role === 'migrate' ? 'worker' : role },
      secrets: this.shopflowSecrets,
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

    this.api = new ecsPatterns.ApplicationLoadBalancedFargateService(this, 'Api', {
      cluster,
      cpu: 1024,
      memoryLimitMiB: 2048,
      desiredCount: env.size.apiTasks.min,
      taskImageOptions: { ...container('api'), containerPort: PORT },
      taskSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [appSg],
      loadBalancer,
      protocol: elbv2.ApplicationProtocol.HTTPS,
      certificate: acm.Certificate.fromCertificateArn(this, 'Certificate', props.certificateArn),
      sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
      redirectHTTP: true,
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      healthCheckGracePeriod: Duration.seconds(60),
    });
    // The pattern's task image options have no `user`: set it on the container definition.
    (this.api.taskDefinition.node.defaultChild as ecs.CfnTaskDefinition).addPropertyOverride(
      'ContainerDefinitions.0.User',
      '1000:1000',
    );
    this.api.targetGroup.configureHealthCheck({
      path: '/health/ready',
      healthyHttpCodes: '200',
      interval: Duration.seconds(15),
    });
    // In-flight requests finish before a task stops (SHUTDOWN_GRACE_MS is 10 s).
    this.api.targetGroup.setAttribute('deregistration_delay.timeout_seconds', '15');
    const apiScaling = this.api.service.autoScaleTaskCount({
      minCapacity: env.size.apiTasks.min,
      maxCapacity: env.size.apiTasks.max,
    });
    apiScaling.scaleOnCpuUtilization('Cpu', { targetUtilizationPercent: 60 });
    apiScaling.scaleOnRequestCount('Requests', {
      targetGroup: this.api.targetGroup,
      // Requests per task per minute: 30,000 is 500 req/s, about half of what one 1-vCPU task
      // serves of a store's usual mix (docs/deployment.md, sizing): headroom for bursts.
      requestsPerTarget: 30_000,
    });

    const workerTask = new ecs.FargateTaskDefinition(this, 'WorkerTask', { cpu: 1024, memoryLimitMiB: 2048 });
    workerTask.addContainer('worker', container('worker'));
    this.worker = new ecs.FargateService(this, 'Worker', {
      cluster,
      taskDefinition: workerTask,
      desiredCount: env.size.workerTasks.min,
      vpcSubnets: { subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS },
      securityGroups: [appSg],
      circuitBreaker: { rollback: true },
      minHealthyPercent: 100,
    });
    const queueDepth = new cloudwatch.Metric({
      namespace: 'AWS/AmazonMQ',
      metricName: 'MessageCount',
      dimensionsMap: { Broker: broker.brokerName },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    });
    this.worker
      .autoScaleTaskCount({ minCapacity: env.size.workerTasks.min, maxCapacity: env.size.workerTasks.max })
      .scaleOnMetric('QueueDepth', {
        metric: queueDepth,
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
    this.migrate = new ecs.FargateTaskDefinition(this, 'MigrateTask', { cpu: 512, memoryLimitMiB: 1024 });
    this.migrate.addContainer('migrate', container('migrate', ['migrate', 'up']));

    for (const task of [this.api.taskDefinition, workerTask, this.migrate]) {
      for (const b of Object.values(this.buckets)) b.grantReadWrite(task.taskRole);
      key.grantEncryptDecrypt(task.taskRole);
    }
    for (const b of ['archive', 'backups'] as const)
      this.buckets[b].grantPut(this.worker.taskDefinition.taskRole);

    this.alarms(env, cache, broker, queueDepth);
  }

  /** A generated `{username: shopflow, password}` secret, encrypted with the data key. */
  private credentials(
    id: string,
    secretName: string,
    key: kms.IKey,
    password: Omit<secretsmanager.SecretStringGenerator, 'secretStringTemplate' | 'generateStringKey'>,
  ): secretsmanager.Secret {
    return new secretsmanager.Secret(this, id, {
      secretName,
      encryptionKey: key,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ username: 'shopflow' }),
        generateStringKey: 'password',
        passwordLength: 32,
        ...password,
      },
    });
  }

  /** CloudFront: originals from the bucket (origin access control), renditions from the app's /images. */
  private cdn(
    env: ShopFlowEnvironment,
    logsBucket: s3.Bucket,
    loadBalancer: elbv2.ApplicationLoadBalancer,
  ): cloudfront.Distribution {
    const renditions = new cloudfront.CachePolicy(this, 'RenditionCache', {
      comment:
        'ShopFlow /images: renditions are immutable (Cache-Control from the app), keyed by size and Accept',
      defaultTtl: Duration.days(1),
      maxTtl: Duration.days(365),
      minTtl: Duration.seconds(0),
      queryStringBehavior: cloudfront.CacheQueryStringBehavior.allowList('size'),
      headerBehavior: cloudfront.CacheHeaderBehavior.allowList('Accept'),
      enableAcceptEncodingBrotli: true,
      enableAcceptEncodingGzip: true,
    });
    const distribution = new cloudfront.Distribution(this, 'Cdn', {
      comment: `ShopFlow ${env.name} product images`,
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.buckets.productImages),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
      },
      additionalBehaviors: {
        '/images/*': {
          origin: new origins.LoadBalancerV2Origin(loadBalancer, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
          cachePolicy: renditions,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        },
      },
      enableLogging: true,
      logBucket: logsBucket,
      logFilePrefix: 'cdn/',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_ALL,
    });
    return distribution;
  }

  /** The service objectives as alarms, to an SNS topic. */
  private alarms(
    env: ShopFlowEnvironment,
    cache: elasticache.CfnReplicationGroup,
    broker: mq.CfnBroker,
    queueDepth: cloudwatch.Metric,
  ): void {
    const topic = new sns.Topic(this, 'Alarms', {
      displayName: `ShopFlow ${env.name} alarms`,
      enforceSSL: true,
    });
    if (env.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(env.alarmEmail));
    const action = new cwActions.SnsAction(topic);
    const alarm = (id: string, a: cloudwatch.AlarmProps) =>
      new cloudwatch.Alarm(this, id, a).addAlarmAction(action);
    const lb = this.api.loadBalancer;
    const errors5xx = new cloudwatch.MathExpression({
      expression: '100 * (e5 / MAX([reqs, 1]))',
      usingMetrics: {
        e5: lb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
          period: Duration.minutes(1),
          statistic: 'Sum',
        }),
        reqs: lb.metrics.requestCount({ period: Duration.minutes(1), statistic: 'Sum' }),
      },
      label: '5xx % of requests',
      period: Duration.minutes(1),
    });
    alarm('Api5xxRate', {
      alarmDescription: 'More than 1% of API answers are 5xx (SLO: 99.9% of requests succeed)',
      metric: errors5xx,
      threshold: 1,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    alarm('ApiLatencyP99', {
      alarmDescription: 'API p99 latency above 500 ms',
      metric: lb.metrics.targetResponseTime({ statistic: 'p99', period: Duration.minutes(1) }),
      threshold: 0.5,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
    });
    alarm('OutboxLag', {
      alarmDescription: 'The oldest unpublished event is older than 2 minutes (broker or workers away)',
      metric: new cloudwatch.Metric({
        namespace: 'ShopFlow',
        metricName: 'shopflow_outbox_oldest_pending_seconds',
        dimensionsMap: { environment: env.name },
        statistic: 'Maximum',
        period: Duration.minutes(1),
      }),
      threshold: 120,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    alarm('ReplicaLag', {
      alarmDescription: 'The read replica is more than 30 s behind',
      metric: this.replica.metric('ReplicaLag', { statistic: 'Maximum', period: Duration.minutes(1) }),
      threshold: 30,
      evaluationPeriods: 5,
    });
    alarm('DatabaseFreeStorage', {
      alarmDescription: 'Less than 10 GiB of database storage left',
      metric: this.database.metricFreeStorageSpace({ period: Duration.minutes(5) }),
      threshold: 10 * 1024 ** 3,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
    for (const consumer of CONSUMERS) {
      alarm(`DeadLetters-${consumer}`, {
        alarmDescription: `Events the ${consumer} consumer refused five times are waiting in shopflow.${consumer}.dead`,
        metric: new cloudwatch.Metric({
          namespace: 'AWS/AmazonMQ',
          metricName: 'MessageCount',
          dimensionsMap: { Broker: broker.brokerName, VirtualHost: '/', Queue: `shopflow.${consumer}.dead` },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
      });
    }
    alarm('QueueBacklog', {
      alarmDescription: 'More than 10,000 messages waiting in the broker',
      metric: queueDepth,
      threshold: 10_000,
      evaluationPeriods: 5,
    });
    alarm('CacheMemory', {
      alarmDescription: 'Redis memory above 80%',
      metric: new cloudwatch.Metric({
        namespace: 'AWS/ElastiCache',
        metricName: 'DatabaseMemoryUsagePercentage',
        dimensionsMap: { ReplicationGroupId: cache.ref },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 80,
      evaluationPeriods: 3,
    });
  }
}
