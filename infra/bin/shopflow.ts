/**
 * The CDK app: `npx cdk synth` (no AWS access needed) writes the CloudFormation templates of every
 * environment to cdk.out; `npx cdk deploy ShopFlow-production-replica ShopFlow-production` deploys
 * one. Context: `-c account=123456789012 -c imageTag=<git sha> -c alarmEmail=<address>
 * -c certificateArn=<ACM ARN> -c apiDomain=<its domain>`, optionally `-c region=... -c replicaRegion=...`
 * and `-c migrateImageTag=<new sha>` (the first phase of a release, docs/deployment.md).
 * cdk-nag's AWS Solutions rules run on every synth; a finding without a justified suppression
 * fails it.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { environments } from '../lib/environments.ts';
import { buildStacks } from '../lib/app.ts';

const app = new App();
const context = (k: string) => app.node.tryGetContext(k) as string | undefined;
buildStacks(
  app,
  environments({
    account: context('account'),
    imageTag: context('imageTag'),
    migrateImageTag: context('migrateImageTag'),
    alarmEmail: context('alarmEmail'),
    region: context('region'),
    replicaRegion: context('replicaRegion'),
    apiDomain: context('apiDomain'),
    paymentProvider: context('paymentProvider'),
    cdnWebAclArn: context('cdnWebAclArn'), // refused: see environments.ts
  }),
  context('certificateArn'),
);
Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose: true }));
app.synth();
