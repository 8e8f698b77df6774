/**
 * The broker's and the search domain's app users, created by the stack: two custom resources
 * (`BrokerAppUser`, `SearchAppUser`) served by one small Lambda (infra/lambda/engine-users.ts) in
 * the app subnets. It reads the admin (or master) secret and the app secret and calls the Amazon MQ
 * RabbitMQ management API (user, vhost permissions) and the OpenSearch security API (role,
 * internal user, mapping). Create and Update apply the whole state with idempotent PUTs; Delete
 * removes nothing (`RemoveOnDelete: "false"`), so deleting or replacing the resource never cuts the
 * running tasks off. The function also rotates the two app secrets (multi-user, every 30 days).
 * After a password is put in an app secret by hand, `aws lambda invoke --function-name
 * <EngineUsersFunctionName> --payload '{"Reapply":true}'` sets it on the engines.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type {
  aws_amazonmq as mq,
  aws_kms as kms,
  aws_opensearchservice as opensearch,
  aws_secretsmanager as secretsmanager,
} from 'aws-cdk-lib';
import {
  CustomResource,
  Duration,
  Fn,
  RemovalPolicy,
  type Stack,
  aws_ec2 as ec2,
  aws_iam as iam,
  aws_lambda as lambda,
  aws_lambda_nodejs as nodejs,
  aws_logs as logs,
} from 'aws-cdk-lib';
import type { EngineUsersProperties } from '../lambda/engine-users.ts';
import { ROTATION_DAYS } from './data.ts';
import type { Network } from './network.ts';

export const ENGINE_USERS_ENTRY = path.resolve(
  path.dirname(fileURLToPath(import.meta.url)),
  '../lambda/engine-users.ts',
);

/** The resources ShopFlow's tasks may use on the broker (exchanges and queues it declares). */
export const BROKER_RESOURCE_PATTERN = '^shopflow\\.';
/** The indexes the search user's role covers: the SEARCH_INDEX alias and the versions behind it. */
export const SEARCH_INDEX_PATTERNS = 'products*';

export interface EngineUsersParts {
  net: Network;
  logsKey: kms.IKey;
  broker: mq.CfnBroker;
  brokerSg: ec2.SecurityGroup;
  brokerSecret: secretsmanager.ISecret;
  brokerAppSecret: secretsmanager.ISecret;
  search: opensearch.Domain;
  searchSg: ec2.SecurityGroup;
  searchSecret: secretsmanager.ISecret;
  searchAppSecret: secretsmanager.ISecret;
}

export function engineUsers(stack: Stack, parts: EngineUsersParts): lambda.Function {
  const { net } = parts;
  const sg = new ec2.SecurityGroup(stack, 'EngineUsersSecurityGroup', {
    vpc: net.vpc,
    description: 'EngineUsers Lambda: the broker management API, the search security API, Secrets Manager',
  });
  // The management API and the security API are HTTPS on 443; only this function reaches the
  // broker's (the tasks speak AMQPS on 5671 and are not given it).
  parts.brokerSg.addIngressRule(sg, ec2.Port.tcp(443), 'EngineUsers Lambda to the management API');
  parts.searchSg.addIngressRule(sg, ec2.Port.tcp(443), 'EngineUsers Lambda to the security API');

  const logGroup = new logs.LogGroup(stack, 'EngineUsersLogs', {
    retention: logs.RetentionDays.ONE_MONTH,
    encryptionKey: parts.logsKey,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  // Its own role with its statements written out (no AWS managed policy): its log group, the
  // network interfaces of a function in a VPC, and read access to the four secrets.
  const role = new iam.Role(stack, 'EngineUsersRole', {
    assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
    description: 'EngineUsers custom resource: creates the broker and search app users',
  });
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [logGroup.logGroupArn],
    }),
  );
  role.addToPolicy(
    new iam.PolicyStatement({
      actions: [
        'ec2:CreateNetworkInterface',
        'ec2:DescribeNetworkInterfaces',
        'ec2:DescribeSubnets',
        'ec2:DeleteNetworkInterface',
        'ec2:AssignPrivateIpAddresses',
        'ec2:UnassignPrivateIpAddresses',
      ],
      resources: ['*'],
    }),
  );
  for (const secret of [parts.brokerSecret, parts.brokerAppSecret, parts.searchSecret, parts.searchAppSecret])
    secret.grantRead(role);

  const broker: EngineUsersProperties = {
    Engine: 'rabbitmq',
    // AMQPS endpoint; the function calls HTTPS on its host (Amazon MQ's management API).
    Endpoint: Fn.select(0, parts.broker.attrAmqpEndpoints),
    AdminSecretArn: parts.brokerSecret.secretArn,
    AppSecretArn: parts.brokerAppSecret.secretArn,
    Vhost: '/',
    ResourcePattern: BROKER_RESOURCE_PATTERN,
    RemoveOnDelete: 'false',
  };
  const search: EngineUsersProperties = {
    Engine: 'opensearch',
    Endpoint: `https://${parts.search.domainEndpoint}`,
    AdminSecretArn: parts.searchSecret.secretArn,
    AppSecretArn: parts.searchAppSecret.secretArn,
    IndexPatterns: SEARCH_INDEX_PATTERNS,
    RemoveOnDelete: 'false',
  };

  const fn = new nodejs.NodejsFunction(stack, 'EngineUsersFunction', {
    entry: ENGINE_USERS_ENTRY,
    handler: 'handler',
    runtime: lambda.Runtime.NODEJS_24_X,
    architecture: lambda.Architecture.ARM_64,
    memorySize: 256,
    // Five attempts per request with back-off, a few requests: well under CloudFormation's hour.
    timeout: Duration.minutes(5),
    role,
    logGroup,
    vpc: net.vpc,
    vpcSubnets: { subnetGroupName: 'app' },
    securityGroups: [sg],
    description: 'ShopFlow: creates the RabbitMQ and OpenSearch app users (custom resource)',
    environment: { ENGINE_USERS: stack.toJsonString([broker, search]) },
    bundling: {
      // The AWS SDK client is bundled at the version the tests ran (package.json), not the runtime's.
      externalModules: [],
      minify: true,
      sourceMap: false,
      target: 'node24',
    },
  });

  const resource = (id: string, properties: EngineUsersProperties) =>
    new CustomResource(stack, id, {
      serviceToken: fn.functionArn,
      resourceType: 'Custom::EngineUser',
      properties: { ...properties },
    });
  const brokerUser = resource('BrokerAppUser', broker);
  const searchUser = resource('SearchAppUser', search);
  // The function's network (its security group's rules on the engines) exists before it is called.
  for (const r of [brokerUser, searchUser]) r.node.addDependency(parts.brokerSg, parts.searchSg);

  // The same function rotates the two app secrets every 30 days, multi-user (the other of
  // shopflow_app and shopflow_app_clone gets the new password; the one running tasks hold stays
  // valid until the rotation after next). The first rotation waits for the schedule, after the
  // users exist. The schedule grants the function the rotation actions on each secret.
  for (const secret of [parts.brokerAppSecret, parts.searchAppSecret]) {
    const schedule = secret.addRotationSchedule('Rotation', {
      rotationLambda: fn,
      automaticallyAfter: Duration.days(ROTATION_DAYS),
      rotateImmediatelyOnUpdate: false,
    });
    schedule.node.addDependency(brokerUser, searchUser);
  }
  return fn;
}
