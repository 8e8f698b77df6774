import type { App } from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';
import { ReplicaStack } from './replica-stack.ts';
import { ShopFlowStack } from './shopflow-stack.ts';
import { acknowledgePrimary } from './nag.ts';
import { EdgeStack } from './waf.ts';

/**
 * Both stacks of each environment (the replica region's buckets first, then the primary) and the
 * edge stack of CloudFront's web ACL.
 */
export function buildStacks(
  app: App,
  envs: ShopFlowEnvironment[],
  certificateArn?: string,
  /** false: no finding is acknowledged (`infra/bin/nag-count.ts` counts what nag.ts accepts). */
  acknowledge = true,
): { primary: ShopFlowStack; replica: ReplicaStack; edge: EdgeStack }[] {
  // CloudFront's web ACL, in us-east-1 (AWS's rule), shared by the environments.
  const edge = new EdgeStack(app, 'ShopFlow-edge', {
    env: { account: envs[0]!.account, region: 'us-east-1' },
  });
  return envs.map((environment) => {
    const replica = new ReplicaStack(app, `ShopFlow-${environment.name}-replica`, {
      environment,
      env: { account: environment.account, region: environment.replicaRegion },
      crossRegionReferences: false,
    });
    const primary = new ShopFlowStack(app, `ShopFlow-${environment.name}`, {
      environment,
      env: { account: environment.account, region: environment.region },
      certificateArn:
        certificateArn ??
        `arn:aws:acm:${environment.region}:${environment.account}:certificate/00000000-0000-0000-0000-000000000000`,
    });
    primary.addStackDependency(replica);
    if (acknowledge) acknowledgePrimary(primary);
    return { primary, replica, edge };
  });
}
