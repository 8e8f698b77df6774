/** The network: three AZs; public (load balancer), private with egress (tasks), isolated (data). */
import { type Stack, aws_ec2 as ec2 } from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';

export interface Network {
  vpc: ec2.Vpc;
  /** The api, worker and migration tasks. */
  appSg: ec2.SecurityGroup;
  /** The isolated subnets of the managed engines. */
  dataSubnets: ec2.SubnetSelection;
  /** A security group for an engine: `port` reachable from the ShopFlow tasks only. */
  dataSg: (name: string, port: number) => ec2.SecurityGroup;
}

export function network(stack: Stack, env: ShopFlowEnvironment): Network {
  const vpc = new ec2.Vpc(stack, 'Vpc', {
    maxAzs: 3,
    natGateways: env.size.natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'app', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 20 },
      { name: 'data', subnetType: ec2.SubnetType.PRIVATE_ISOLATED, cidrMask: 24 },
    ],
    flowLogs: { all: { trafficType: ec2.FlowLogTrafficType.ALL } },
  });
  const appSg = new ec2.SecurityGroup(stack, 'AppSecurityGroup', {
    vpc,
    description: 'ShopFlow api and worker tasks',
  });
  const dataSg = (name: string, port: number) => {
    const sg = new ec2.SecurityGroup(stack, `${name}SecurityGroup`, {
      vpc,
      description: `${name}: reachable from ShopFlow tasks only`,
      allowAllOutbound: false,
    });
    sg.addIngressRule(appSg, ec2.Port.tcp(port), `ShopFlow tasks to ${name}`);
    return sg;
  };
  return { vpc, appSg, dataSubnets: { subnetType: ec2.SubnetType.PRIVATE_ISOLATED }, dataSg };
}
