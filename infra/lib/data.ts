/**
 * The managed engines that replace ShopFlow's embedded defaults: RDS PostgreSQL with a read
 * replica, ElastiCache Redis, Amazon MQ for RabbitMQ and OpenSearch, in the isolated subnets.
 */
import type { aws_kms as kms } from 'aws-cdk-lib';
import {
  Duration,
  Fn,
  RemovalPolicy,
  type Stack,
  aws_amazonmq as mq,
  aws_ec2 as ec2,
  aws_elasticache as elasticache,
  aws_iam as iam,
  aws_logs as logs,
  aws_opensearchservice as opensearch,
  aws_rds as rds,
  aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';
import type { Keys } from './keys.ts';
import { replicaKeyAlias } from './names.ts';
import type { Network } from './network.ts';

/**
 * A copy of the secret in the recovery region, encrypted there with the replica key (found by its
 * alias): a rebuilt stack there finds the same credentials.
 */
export function replicateSecret(secret: secretsmanager.ISecret, env: ShopFlowEnvironment): void {
  (secret.node.defaultChild as secretsmanager.CfnSecret).replicaRegions = [
    { region: env.replicaRegion, kmsKeyId: replicaKeyAlias(env) },
  ];
}

/** A generated `{username, password}` secret, encrypted with the secrets key, copied to the recovery region. */
export function credentials(
  stack: Stack,
  env: ShopFlowEnvironment,
  id: string,
  secretName: string,
  key: kms.IKey,
  password: Omit<secretsmanager.SecretStringGenerator, 'secretStringTemplate' | 'generateStringKey'>,
  username = 'shopflow',
): secretsmanager.Secret {
  const secret = new secretsmanager.Secret(stack, id, {
    secretName,
    encryptionKey: key,
    generateSecretString: {
      secretStringTemplate: JSON.stringify({ username }),
      generateStringKey: 'password',
      passwordLength: 32,
      ...password,
    },
  });
  replicateSecret(secret, env);
  return secret;
}

export function databaseEngines(stack: Stack, env: ShopFlowEnvironment, net: Network, keys: Keys) {
  const production = env.name === 'production';
  const removal = production ? RemovalPolicy.RETAIN : RemovalPolicy.SNAPSHOT;
  // --- PostgreSQL 15: Multi-AZ, 30 days of automated backups (point-in-time recovery), encrypted.
  const parameters = new rds.ParameterGroup(stack, 'DatabaseParameters', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
    description: 'ShopFlow: TLS only, timeouts, statement logging',
    parameters: {
      // The extensions the migrations create (pg_trgm, unaccent) need no preloading on RDS.
      'rds.force_ssl': '1',
      // No server-wide statement_timeout: it cancelled CREATE INDEX CONCURRENTLY on a large table
      // (leaving an INVALID index). The app sets its own per connection (DB_STATEMENT_TIMEOUT_MS,
      // 30 s) and migrations theirs (MIGRATION_LOCK_TIMEOUT_MS, no statement limit).
      idle_in_transaction_session_timeout: '60000',
      log_min_duration_statement: '500',
      // pg_stat_statements for Performance Insights' SQL view.
      shared_preload_libraries: 'pg_stat_statements',
    },
  });
  const dbCredentials = rds.Credentials.fromGeneratedSecret('shopflow', {
    secretName: `shopflow/${env.name}/database`,
    encryptionKey: keys.secrets,
    replicaRegions: [{ region: env.replicaRegion }],
  });
  // One enhanced-monitoring role for the primary and its replica (AWS's own policy for RDS).
  const monitoringRole = new iam.Role(stack, 'DatabaseMonitoringRole', {
    assumedBy: new iam.ServicePrincipal('monitoring.rds.amazonaws.com'),
    managedPolicies: [
      iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonRDSEnhancedMonitoringRole'),
    ],
  });
  const database = new rds.DatabaseInstance(stack, 'Database', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
    instanceType: new ec2.InstanceType(env.size.dbInstance.replace(/^db\./, '')),
    vpc: net.vpc,
    vpcSubnets: net.dataSubnets,
    securityGroups: [net.dataSg('Database', 5432)],
    credentials: dbCredentials,
    databaseName: 'shopflow',
    multiAz: true,
    allocatedStorage: env.size.dbAllocatedGiB,
    maxAllocatedStorage: env.size.dbAllocatedGiB * 4,
    storageType: rds.StorageType.GP3,
    storageEncrypted: true,
    storageEncryptionKey: keys.data,
    backupRetention: Duration.days(30),
    preferredBackupWindow: '05:00-06:00',
    deleteAutomatedBackups: false,
    deletionProtection: true,
    removalPolicy: removal,
    parameterGroup: parameters,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: keys.data,
    monitoringInterval: Duration.seconds(60),
    monitoringRole,
    cloudwatchLogsExports: ['postgresql', 'upgrade'],
    autoMinorVersionUpgrade: true,
    iamAuthentication: true,
  });
  const replica = new rds.DatabaseInstanceReadReplica(stack, 'DatabaseReplica', {
    sourceDatabaseInstance: database,
    instanceType: new ec2.InstanceType(env.size.dbInstance.replace(/^db\./, '')),
    vpc: net.vpc,
    vpcSubnets: net.dataSubnets,
    securityGroups: database.connections.securityGroups,
    // Encrypted like its source, with its key; stated for the record (cdk-nag RDS2).
    storageEncrypted: true,
    // Multi-AZ in production: reads keep a standby too.
    multiAz: production,
    parameterGroup: parameters,
    deletionProtection: true,
    removalPolicy: removal,
    enablePerformanceInsights: true,
    performanceInsightEncryptionKey: keys.data,
    monitoringInterval: Duration.seconds(60),
    monitoringRole,
    cloudwatchLogsExports: ['postgresql'],
    autoMinorVersionUpgrade: true,
    iamAuthentication: true,
  });

  // Automated backups (point-in-time recovery) copied to the recovery region, encrypted there with
  // the replica key.
  const cfn = database.node.defaultChild as rds.CfnDBInstance;
  cfn.addPropertyOverride('AutomaticBackupReplicationRegion', env.replicaRegion);
  cfn.addPropertyOverride('AutomaticBackupReplicationKmsKeyId', replicaKeyAlias(env));
  // The scratch server `backup verify` restores onto (BACKUP_VERIFY_DB_HOST), never the primary:
  // small, single-AZ, its own administrator (BACKUP_VERIFY_DB_USER: the worker creates and drops a
  // scratch database there; the primary's master rotates apart); it holds nothing between verifications.
  const verifyDatabase = new rds.DatabaseInstance(stack, 'VerifyDatabase', {
    engine: rds.DatabaseInstanceEngine.postgres({ version: rds.PostgresEngineVersion.VER_15 }),
    instanceType: new ec2.InstanceType('t4g.medium'),
    vpc: net.vpc,
    vpcSubnets: net.dataSubnets,
    securityGroups: database.connections.securityGroups,
    credentials: rds.Credentials.fromGeneratedSecret('shopflow', {
      secretName: `shopflow/${env.name}/database-verify`,
      encryptionKey: keys.secrets,
      replicaRegions: [{ region: env.replicaRegion }],
    }),
    multiAz: false,
    allocatedStorage: env.size.dbAllocatedGiB,
    maxAllocatedStorage: env.size.dbAllocatedGiB * 4,
    storageType: rds.StorageType.GP3,
    storageEncrypted: true,
    storageEncryptionKey: keys.data,
    backupRetention: Duration.days(1),
    deletionProtection: true,
    removalPolicy: RemovalPolicy.DESTROY,
    parameterGroup: parameters,
    cloudwatchLogsExports: ['postgresql'],
    autoMinorVersionUpgrade: true,
    iamAuthentication: true,
  });
  const logins = databaseLogins(stack, env, net, keys, database, verifyDatabase);
  return { database, replica, verifyDatabase, ...logins };
}

/** Rotated every 30 days by Secrets Manager's hosted rotation (a Lambda it deploys in the app subnets). */
export const ROTATION_DAYS = 30;

/**
 * The database identities (src/platform/db/roles.ts, created by `shopflow migrate roles` with the
 * master secret): the app user the api and worker connect as, the migrate user of the migration
 * task, each with its own secret, and rotation for every database secret. The app user rotates
 * multi-user (Secrets Manager alternates it with a clone, so the password running tasks hold keeps
 * working until the next rotation); the master, migrate and scratch-server users single-user (no
 * long-running task holds them).
 */
function databaseLogins(
  stack: Stack,
  env: ShopFlowEnvironment,
  net: Network,
  keys: Keys,
  database: rds.DatabaseInstance,
  verifyDatabase: rds.DatabaseInstance,
) {
  const login = (id: string, username: string, suffix: string) =>
    new rds.DatabaseSecret(stack, id, {
      username,
      secretName: `shopflow/${env.name}/database-${suffix}`,
      encryptionKey: keys.secrets,
      masterSecret: database.secret!,
      replicaRegions: [{ region: env.replicaRegion }],
    }).attach(database);
  const appLogin = login('DatabaseAppSecret', 'shopflow_app_user', 'app');
  const migrateLogin = login('DatabaseMigrateSecret', 'shopflow_migrate_user', 'migrate');
  const rotation = { vpc: net.vpc, vpcSubnets: { subnetGroupName: 'app' }, securityGroups: [net.appSg] };
  // The app and migrate users exist only once the roles task has run (after the first deploy):
  // their first rotation waits for the schedule instead of failing at creation.
  const schedule = (
    secret: secretsmanager.ISecret,
    hostedRotation: secretsmanager.HostedRotation,
    rotateImmediatelyOnUpdate = true,
  ) =>
    secret.addRotationSchedule('Rotation', {
      hostedRotation,
      automaticallyAfter: Duration.days(ROTATION_DAYS),
      rotateImmediatelyOnUpdate,
    });
  schedule(database.secret!, secretsmanager.HostedRotation.postgreSqlSingleUser(rotation));
  schedule(verifyDatabase.secret!, secretsmanager.HostedRotation.postgreSqlSingleUser(rotation));
  schedule(migrateLogin, secretsmanager.HostedRotation.postgreSqlSingleUser(rotation), false);
  schedule(
    appLogin,
    secretsmanager.HostedRotation.postgreSqlMultiUser({
      ...rotation,
      masterSecret: database.secret!,
    }),
    false,
  );
  return { appLogin, migrateLogin };
}

export function cacheEngine(stack: Stack, env: ShopFlowEnvironment, net: Network, keys: Keys) {
  // --- Redis 7, cluster mode, TLS and AUTH, Multi-AZ, daily snapshots.
  const cacheToken = new secretsmanager.Secret(stack, 'CacheAuthToken', {
    secretName: `shopflow/${env.name}/redis`,
    encryptionKey: keys.secrets,
    generateSecretString: { passwordLength: 64, excludePunctuation: true },
  });
  const cacheSubnets = new elasticache.CfnSubnetGroup(stack, 'CacheSubnets', {
    description: 'ShopFlow Redis',
    subnetIds: net.vpc.selectSubnets(net.dataSubnets).subnetIds,
  });
  const cacheSg = net.dataSg('Cache', 6379);
  const cache = new elasticache.CfnReplicationGroup(stack, 'Cache', {
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
    kmsKeyId: keys.data.keyId,
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

  replicateSecret(cacheToken, env);
  return { cache, cacheToken };
}

export function brokerEngine(stack: Stack, env: ShopFlowEnvironment, net: Network, keys: Keys) {
  // --- RabbitMQ (Amazon MQ), a three-node cluster across AZs.
  const brokerSecret = credentials(
    stack,
    env,
    'BrokerCredentials',
    `shopflow/${env.name}/rabbitmq`,
    keys.secrets,
    {
      excludePunctuation: true,
    },
  );
  const brokerSg = net.dataSg('Broker', 5671);
  const broker = new mq.CfnBroker(stack, 'Broker', {
    brokerName: `shopflow-${env.name}`,
    engineType: 'RABBITMQ',
    engineVersion: '3.13',
    hostInstanceType: env.size.mqInstance,
    deploymentMode: 'CLUSTER_MULTI_AZ',
    publiclyAccessible: false,
    autoMinorVersionUpgrade: true,
    subnetIds: net.vpc.selectSubnets(net.dataSubnets).subnetIds,
    securityGroups: [brokerSg.securityGroupId],
    logs: { general: true },
    encryptionOptions: { useAwsOwnedKey: false, kmsKeyId: keys.data.keyArn },
    users: [
      {
        username: brokerSecret.secretValueFromJson('username').unsafeUnwrap(),
        password: brokerSecret.secretValueFromJson('password').unsafeUnwrap(),
      },
    ],
  });

  // The app's own user, not the broker admin above: created on the broker through its management
  // API by the EngineUsers custom resource (engine-users.ts; Amazon MQ for RabbitMQ takes only the
  // admin user in the template), with permissions limited to the shopflow.* exchanges and queues.
  const brokerAppSecret = credentials(
    stack,
    env,
    'BrokerAppCredentials',
    `shopflow/${env.name}/rabbitmq-app`,
    keys.secrets,
    { excludePunctuation: true },
    'shopflow_app',
  );
  return { broker, brokerSecret, brokerAppSecret, brokerSg };
}

export function searchEngine(stack: Stack, env: ShopFlowEnvironment, net: Network, keys: Keys) {
  const production = env.name === 'production';
  // --- OpenSearch 2: three nodes over three AZs, encrypted, fine-grained access control.
  const searchSecret = credentials(
    stack,
    env,
    'SearchCredentials',
    `shopflow/${env.name}/opensearch`,
    keys.secrets,
    {
      requireEachIncludedType: true,
    },
  );
  const searchSg = net.dataSg('Search', 443);
  const searchLogs = new logs.LogGroup(stack, 'SearchLogs', { retention: logs.RetentionDays.ONE_MONTH });
  // The log group's resource policy as a CloudFormation resource of its own, not the CDK's
  // custom-resource Lambda (a role with an AWS managed policy and wildcards) that writes it.
  const searchLogsPolicy = new logs.ResourcePolicy(stack, 'SearchLogsPolicy', {
    resourcePolicyName: `shopflow-${env.name}-opensearch-logs`,
    policyStatements: [
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('es.amazonaws.com')],
        actions: ['logs:PutLogEvents', 'logs:CreateLogStream'],
        resources: [searchLogs.logGroupArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    ],
  });
  const domainName = `shopflow-${env.name}`;
  const search = new opensearch.Domain(stack, 'Search', {
    domainName,
    version: opensearch.EngineVersion.OPENSEARCH_2_19,
    vpc: net.vpc,
    vpcSubnets: [net.dataSubnets],
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
    encryptionAtRest: { enabled: true, kmsKey: keys.data },
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
    suppressLogsResourcePolicy: true,
    // Derived data (rebuilt by `shopflow search reindex`): kept in production, dropped in staging.
    removalPolicy: production ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
  });
  search.node.addDependency(searchLogsPolicy);
  // The access policy in the domain's own properties (its ARN from the fixed domain name), not
  // through the CDK's custom resource that addAccessPolicies would add. Fine-grained access control
  // decides who may do what (internal users, basic auth); only the VPC can reach the domain.
  (search.node.defaultChild as opensearch.CfnDomain).accessPolicies = {
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Allow',
        Principal: { AWS: '*' },
        Action: 'es:ESHttp*',
        Resource: Fn.sub(
          'arn:${AWS::Partition}:es:${AWS::Region}:${AWS::AccountId}:domain/' + domainName + '/*',
        ),
      },
    ],
  };

  // The app's own user, not the master above: an internal user mapped to a role limited to the
  // products index pattern, created through the domain's security API by the EngineUsers custom
  // resource (engine-users.ts).
  const searchAppSecret = credentials(
    stack,
    env,
    'SearchAppCredentials',
    `shopflow/${env.name}/opensearch-app`,
    keys.secrets,
    { requireEachIncludedType: true },
    'shopflow_app',
  );
  return { search, searchSecret, searchAppSecret, searchSg };
}
