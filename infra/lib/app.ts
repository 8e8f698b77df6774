import type { App } from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';
import { ReplicaStack } from './replica-stack.ts';
import { ShopFlowStack } from './shopflow-stack.ts';
import { acknowledgePrimary } from './nag.ts';
import { EdgeStack } from './waf.ts';

const REFERENCE_STRENGTH = '@aws-cdk/core:defaultCrossStackReferences';

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
  // Strong references (CDK's default, stated): the edge stack refuses to change or drop the ACL's
  // ARN while a distribution still uses it.
  if (app.node.tryGetContext(REFERENCE_STRENGTH) === undefined)
    app.node.setContext(REFERENCE_STRENGTH, 'strong');
  // CloudFront's web ACL, in us-east-1 (AWS's rule), shared by the environments. Each primary stack
  // reads its ARN by a cross-region reference: CDK writes it to an SSM parameter in us-east-1 from
  // the edge stack and reads it back in the primary's region (custom resources of aws-cdk-lib), and
  // deploys the edge stack first.
  const edge = new EdgeStack(app, 'ShopFlow-edge', {
    env: { account: envs[0]!.account, region: 'us-east-1' },
    crossRegionReferences: true,
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
      crossRegionReferences: true,
      cdnWebAclArn: edge.webAcl.attrArn,
      certificateArn:
        certificateArn ??
        `arn:aws:acm:${environment.region}:${environment.account}:certificate/00000000-0000-0000-0000-000000000000`,
    });
    primary.addStackDependency(replica);
    if (acknowledge) acknowledgePrimary(primary);
    return { primary, replica, edge };
  });
}
