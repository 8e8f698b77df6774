/**
 * What ShopFlow's containers receive: every variable is named after the one src/config.ts reads,
 * filled from the resource it describes; credentials come from Secrets Manager.
 */
import type {
  aws_amazonmq as mq,
  aws_elasticache as elasticache,
  aws_kms as kms,
  aws_opensearchservice as opensearch,
  aws_rds as rds,
  aws_s3 as s3,
} from 'aws-cdk-lib';
import { Fn, type Stack, aws_ecs as ecs, aws_secretsmanager as secretsmanager } from 'aws-cdk-lib';
import { replicateSecret } from './data.ts';
import type { ShopFlowEnvironment } from './environments.ts';
import { BUCKETS, type BucketKey, PORT, RDS_CA_BUNDLE } from './names.ts';

export interface Engines {
  database: rds.DatabaseInstance;
  replica: rds.DatabaseInstanceReadReplica;
  verifyDatabase: rds.DatabaseInstance;
  /** The database users of the app (api, worker) and of the migration task (data.ts, databaseLogins). */
  appLogin: secretsmanager.ISecret;
  migrateLogin: secretsmanager.ISecret;
  cache: elasticache.CfnReplicationGroup;
  cacheToken: secretsmanager.Secret;
  broker: mq.CfnBroker;
  brokerSecret: secretsmanager.Secret;
  /** The broker's app user (its admin, brokerSecret, is given to no task). */
  brokerAppSecret: secretsmanager.Secret;
  search: opensearch.Domain;
  searchSecret: secretsmanager.Secret;
  /** The domain's app user (its master, searchSecret, is given to no task). */
  searchAppSecret: secretsmanager.Secret;
}

export interface Settings {
  environment: Record<string, string>;
  /** What every container receives. */
  secrets: Record<string, ecs.Secret>;
  /** Each role's database login: the app user (api, worker), the migrate user (migration task). */
  databaseLogin: { app: Record<string, ecs.Secret>; migrate: Record<string, ecs.Secret> };
  /** The worker only: the scratch server's administrator, for backup verify. */
  verifyLogin: Record<string, ecs.Secret>;
  /** The one-off `migrate roles` task only: the master user and the passwords it sets. */
  rolesTask: Record<string, ecs.Secret>;
}

/** The keys of the app secret each payment provider reads. */
const PROVIDER_KEYS = {
  stripe: ['STRIPE_SECRET_KEY', 'STRIPE_WEBHOOK_SECRET'],
  mercadopago: ['MERCADOPAGO_ACCESS_TOKEN', 'MERCADOPAGO_WEBHOOK_SECRET'],
} as const;

export function settings(
  stack: Stack,
  env: ShopFlowEnvironment,
  key: kms.IKey,
  engines: Engines,
  buckets: Record<BucketKey, s3.Bucket>,
  cdnDomainName: string,
): Settings {
  const { database, replica, verifyDatabase, cache, cacheToken, broker, search } = engines;
  // --- Secrets ShopFlow needs besides the generated ones: filled in by the operator.
  const appSecrets: secretsmanager.Secret = new secretsmanager.Secret(stack, 'AppSecrets', {
    secretName: `shopflow/${env.name}/app`,
    encryptionKey: key,
    description:
      "The payment provider's keys (STRIPE_* or MERCADOPAGO_*, as paymentProvider says): set them after the first deploy",
    generateSecretString: {
      secretStringTemplate: JSON.stringify({
        STRIPE_SECRET_KEY: 'sk_live_replace_me',
        STRIPE_WEBHOOK_SECRET: 'whsec_replace_me',
        MERCADOPAGO_ACCESS_TOKEN: 'APP_USR-replace_me',
        MERCADOPAGO_WEBHOOK_SECRET: 'replace_me',
      }),
      generateStringKey: 'METRICS_TOKEN',
      passwordLength: 48,
      excludePunctuation: true,
    },
  });
  replicateSecret(appSecrets, env);
  // The key the outgoing webhooks' signing secrets are sealed with at rest (WEBHOOK_SECRETS_KEY).
  // Generated once and never rotated by a schedule: the stored secrets are sealed under it.
  const webhookSecretsKey = new secretsmanager.Secret(stack, 'WebhookSecretsKey', {
    secretName: `shopflow/${env.name}/webhook-secrets-key`,
    encryptionKey: key,
    description: 'WEBHOOK_SECRETS_KEY: seals the outgoing webhooks signing secrets at rest',
    generateSecretString: { passwordLength: 48, excludePunctuation: true },
  });
  replicateSecret(webhookSecretsKey, env);
  const environment = {
    NODE_ENV: 'production',
    HOST: '0.0.0.0',
    PORT: String(PORT),
    DB_HOST: database.dbInstanceEndpointAddress,
    DB_PORT: database.dbInstanceEndpointPort,
    DB_NAME: 'shopflow',
    DB_READ_HOST: replica.dbInstanceEndpointAddress,
    BACKUP_VERIFY_DB_HOST: verifyDatabase.dbInstanceEndpointAddress,
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
    S3_REGION: stack.region,
    ...(Object.fromEntries(
      (Object.keys(BUCKETS) as BucketKey[]).map((k) => [BUCKETS[k], buckets[k].bucketName]),
    ) as Record<string, string>),
    CDN_BASE_URL: `https://${cdnDomainName}`,
    PAYMENT_PROVIDER: env.paymentProvider,
    TRUST_PROXY: '1',
    LOG_LEVEL: 'info',
    // The outbox gauges as CloudWatch metrics (embedded in the logs), for the outbox-lag alarm.
    CRON_PUBLISH_CLOUDWATCH_METRICS: '* * * * *',
    METRICS_ENVIRONMENT: env.name,
  };
  const login = (secret: secretsmanager.ISecret, user: string, password: string) => ({
    [user]: ecs.Secret.fromSecretsManager(secret, 'username'),
    [password]: ecs.Secret.fromSecretsManager(secret, 'password'),
  });
  const secrets = {
    REDIS_PASSWORD: ecs.Secret.fromSecretsManager(cacheToken),
    ...login(engines.brokerAppSecret, 'AMQP_USERNAME', 'AMQP_PASSWORD'),
    ...login(engines.searchAppSecret, 'OPENSEARCH_USERNAME', 'OPENSEARCH_PASSWORD'),
    ...Object.fromEntries(
      PROVIDER_KEYS[env.paymentProvider].map((k) => [k, ecs.Secret.fromSecretsManager(appSecrets, k)]),
    ),
    WEBHOOK_SECRETS_KEY: ecs.Secret.fromSecretsManager(webhookSecretsKey),
    METRICS_TOKEN: ecs.Secret.fromSecretsManager(appSecrets, 'METRICS_TOKEN'),
  };
  return {
    environment,
    secrets,
    databaseLogin: {
      app: login(engines.appLogin, 'DB_USER', 'DB_PASSWORD'),
      migrate: login(engines.migrateLogin, 'DB_USER', 'DB_PASSWORD'),
    },
    verifyLogin: login(verifyDatabase.secret!, 'BACKUP_VERIFY_DB_USER', 'BACKUP_VERIFY_DB_PASSWORD'),
    rolesTask: {
      ...login(database.secret!, 'DB_USER', 'DB_PASSWORD'),
      ...login(engines.appLogin, 'DB_APP_USER', 'DB_APP_PASSWORD'),
      ...login(engines.migrateLogin, 'DB_MIGRATE_USER', 'DB_MIGRATE_PASSWORD'),
    },
  };
}
