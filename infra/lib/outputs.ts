/**
 * The stack's outputs: every name the release and the runbooks need, read from the stack rather
 * than written down (`aws cloudformation describe-stacks --stack-name ShopFlow-<env> --query
 * 'Stacks[0].Outputs'`). The migration task's `aws ecs run-task` takes all its inputs from here.
 */
import {
  CfnOutput,
  type aws_cloudfront as cloudfront,
  type aws_ecs as ecs,
  type aws_elasticloadbalancingv2 as elbv2,
  type aws_lambda as lambda,
} from 'aws-cdk-lib';
import type { Network } from './network.ts';
import type { ShopFlowStack } from './shopflow-stack.ts';

/** The outputs `aws ecs run-task` needs for the migration task (docs/deployment.md). */
export const RUN_TASK_OUTPUTS = [
  'ClusterName',
  'MigrateTaskDefinitionArn',
  'DatabaseRolesTaskDefinitionArn',
  'AppSubnetIds',
  'AppSecurityGroupId',
];

export function outputs(
  stack: ShopFlowStack,
  parts: {
    net: Network;
    cluster: ecs.ICluster;
    migrate: ecs.FargateTaskDefinition;
    roles: ecs.FargateTaskDefinition;
    lb: elbv2.ApplicationLoadBalancer;
    distribution: cloudfront.Distribution;
    engineUsers: lambda.IFunction;
  },
): void {
  const out = (id: string, value: string, description: string) =>
    new CfnOutput(stack, id, { value, description });
  out('ClusterName', parts.cluster.clusterName, 'ECS cluster of api, worker and the migration task');
  out('MigrateTaskDefinitionArn', parts.migrate.taskDefinitionArn, 'Run before services roll: migrate up');
  out(
    'DatabaseRolesTaskDefinitionArn',
    parts.roles.taskDefinitionArn,
    'Run before migrate up: migrate roles (the app and migrate database users)',
  );
  out(
    'AppSubnetIds',
    parts.net.vpc.selectSubnets({ subnetGroupName: 'app' }).subnetIds.join(','),
    'Private subnets (with egress) for one-off tasks',
  );
  out('AppSecurityGroupId', parts.net.appSg.securityGroupId, 'Security group the engines admit');
  out('ApiServiceName', stack.api.service.serviceName, 'ECS service of the api');
  out('WorkerServiceName', stack.worker.serviceName, 'ECS service of the worker');
  out('LoadBalancerDnsName', parts.lb.loadBalancerDnsName, "The API domain's DNS record points here");
  out('CdnDomainName', parts.distribution.distributionDomainName, 'CloudFront (product images)');
  out('DatabaseInstanceId', stack.database.instanceIdentifier, 'RDS primary (Multi-AZ)');
  out('DatabaseReplicaId', stack.replica.instanceIdentifier, 'RDS read replica');
  out('DatabaseSecretArn', stack.database.secret!.secretArn, 'Master credentials (Secrets Manager)');
  out(
    'EngineUsersFunctionName',
    parts.engineUsers.functionName,
    'Sets the broker and search app users again after a password change: payload {"Reapply":true}',
  );
  for (const [name, bucket] of Object.entries(stack.buckets))
    out(`Bucket${name[0]!.toUpperCase()}${name.slice(1)}`, bucket.bucketName, `S3 bucket ${name}`);
}
