/**
 * AWS WAF in front of the API's load balancer: AWS's managed rule sets (common exploits, known bad
 * inputs, SQL injection, IP reputation) and a rate rule per client address, as a backstop behind
 * ShopFlow's own rate limits; the same rules for CloudFront in the edge stack (us-east-1). Blocked
 * requests are sampled and counted in CloudWatch.
 */
import type { aws_elasticloadbalancingv2 as elbv2 } from 'aws-cdk-lib';
import { CfnOutput, Stack, type StackProps, aws_wafv2 as wafv2 } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import type { ShopFlowEnvironment } from './environments.ts';

/** Requests per client address per 5 minutes before WAF blocks it (ShopFlow's limits are finer). */
export const WAF_RATE_LIMIT = 3000;

export const MANAGED_RULE_SETS = [
  'AWSManagedRulesCommonRuleSet',
  'AWSManagedRulesKnownBadInputsRuleSet',
  'AWSManagedRulesSQLiRuleSet',
  'AWSManagedRulesAmazonIpReputationList',
];

export function webAcl(stack: Stack, envName: string, scope: 'REGIONAL' | 'CLOUDFRONT', id: string) {
  const visibility = (metricName: string) => ({
    cloudWatchMetricsEnabled: true,
    sampledRequestsEnabled: true,
    metricName,
  });
  return new wafv2.CfnWebACL(stack, id, {
    name: `shopflow-${envName}-${id.toLowerCase()}`,
    scope,
    defaultAction: { allow: {} },
    visibilityConfig: visibility(`shopflow-${envName}-${id}`),
    rules: [
      ...MANAGED_RULE_SETS.map((name, i) => ({
        name,
        priority: i,
        overrideAction: { none: {} },
        statement: { managedRuleGroupStatement: { vendorName: 'AWS', name } },
        visibilityConfig: visibility(name),
      })),
      {
        name: 'rate-per-address',
        priority: MANAGED_RULE_SETS.length,
        action: { block: {} },
        statement: { rateBasedStatement: { limit: WAF_RATE_LIMIT, aggregateKeyType: 'IP' } },
        visibilityConfig: visibility('rate-per-address'),
      },
    ],
  });
}

export function protectLoadBalancer(
  stack: Stack,
  env: ShopFlowEnvironment,
  lb: elbv2.ApplicationLoadBalancer,
): wafv2.CfnWebACL {
  const acl = webAcl(stack, env.name, 'REGIONAL', 'ApiWaf');
  new wafv2.CfnWebACLAssociation(stack, 'ApiWafAssociation', {
    resourceArn: lb.loadBalancerArn,
    webAclArn: acl.attrArn,
  });
  return acl;
}

/**
 * The CloudFront web ACL: AWS keeps those in us-east-1 whatever the distribution's region, so it is
 * a stack of its own there (`ShopFlow-edge`), deployed before the primary stacks, which reference
 * its ARN across regions (app.ts). The output WebAclArn is for people.
 */
export class EdgeStack extends Stack {
  readonly webAcl: wafv2.CfnWebACL;

  constructor(scope: Construct, id: string, props: StackProps) {
    super(scope, id, props);
    this.webAcl = webAcl(this, 'edge', 'CLOUDFRONT', 'CdnWaf');
    new CfnOutput(this, 'WebAclArn', {
      value: this.webAcl.attrArn,
      description: "CloudFront's web ACL (the ShopFlow stacks reference it directly)",
    });
  }
}
