/**
 * The environments ShopFlow is deployed to, as stack properties. Account, regions, image tag, API
 * domain and alarm address come from CDK context (`-c account=123456789012 -c imageTag=<git sha>
 * -c alarmEmail=oncall@... -c region=sa-east-1 -c replicaRegion=us-east-1 -c apiDomain=...`), so the
 * same code synthesises for any account and region, offline. There is no default image tag (a
 * `latest` would deploy whatever was pushed last) and no default alarm address (alarms that page
 * nobody): synthesis stops without them.
 */
export interface ShopFlowEnvironment {
  /** `staging` or `production`: part of every name. */
  name: 'staging' | 'production';
  account: string;
  /** The primary region: every resource of the main stack (no region or zone is written in the code). */
  region: string;
  /**
   * The recovery region: the replicated buckets, the image repository's and the secrets' copies,
   * the database's automated backups (docs/runbooks/disaster-recovery.md).
   */
  replicaRegion: string;
  /** The services' image tag in the environment's ECR repository (immutable: a git sha). */
  imageTag: string;
  /**
   * The migration task's image tag: the first phase of a release deploys the new tag here only,
   * runs the migrations, then the second phase rolls the services (docs/deployment.md).
   */
  migrateImageTag: string;
  /** The API's domain, the one its ACM certificate names: CloudFront reaches /images through it. */
  apiDomain: string;
  /** Sizes: production runs Multi-AZ everywhere with more capacity; staging is smaller. */
  size: {
    dbInstance: string;
    dbAllocatedGiB: number;
    cacheNode: string;
    cacheShards: number;
    mqInstance: string;
    searchInstance: string;
    searchNodes: number;
    apiTasks: { min: number; max: number };
    workerTasks: { min: number; max: number };
    natGateways: number;
  };
  /** Who receives the alarms (subscribed to the environment's SNS topic; required). */
  alarmEmail: string;
  /** Who charges the shoppers: its keys are read from the app secret (docs/deployment.md). */
  paymentProvider: 'stripe' | 'mercadopago';
}

export interface EnvironmentContext {
  account?: string;
  imageTag?: string;
  migrateImageTag?: string;
  alarmEmail?: string;
  region?: string;
  replicaRegion?: string;
  /** `api.example.com`: staging's is `staging.` + it. */
  apiDomain?: string;
  /** `stripe` (the default) or `mercadopago`. */
  paymentProvider?: string;
  /**
   * Gone: CloudFront's web ACL comes from the edge stack by a cross-region reference. Given, it
   * stops synthesis rather than being silently ignored.
   */
  cdnWebAclArn?: string;
}

export function environments(context: EnvironmentContext): ShopFlowEnvironment[] {
  const account = context.account ?? '111111111111';
  const imageTag = context.imageTag;
  if (!imageTag || imageTag === 'latest')
    throw new Error('imageTag is required (-c imageTag=<git sha>): an immutable tag, never latest');
  if (!context.alarmEmail) throw new Error('alarmEmail is required (-c alarmEmail=<who is paged>)');
  if (context.cdnWebAclArn)
    throw new Error(
      'cdnWebAclArn is no longer read: the distributions take the web ACL of the edge stack (ShopFlow-edge) by a cross-region reference; drop -c cdnWebAclArn',
    );
  const region = context.region ?? 'sa-east-1';
  const replicaRegion = context.replicaRegion ?? 'us-east-1';
  if (region === replicaRegion) throw new Error('the replica region must differ from the primary region');
  const apiDomain = context.apiDomain ?? 'api.shopflow.example.com';
  const paymentProvider = context.paymentProvider ?? 'stripe';
  if (paymentProvider !== 'stripe' && paymentProvider !== 'mercadopago')
    throw new Error(`paymentProvider must be stripe or mercadopago, not ${paymentProvider}`);
  const common = {
    account,
    region,
    replicaRegion,
    imageTag,
    migrateImageTag: context.migrateImageTag ?? imageTag,
    alarmEmail: context.alarmEmail,
    paymentProvider,
  } as const;
  return [
    {
      name: 'staging',
      ...common,
      apiDomain: `staging.${apiDomain}`,
      size: {
        dbInstance: 'db.t4g.medium',
        dbAllocatedGiB: 50,
        cacheNode: 'cache.t4g.small',
        cacheShards: 1,
        mqInstance: 'mq.m5.large',
        searchInstance: 't3.medium.search',
        searchNodes: 3,
        apiTasks: { min: 2, max: 4 },
        workerTasks: { min: 1, max: 2 },
        natGateways: 1,
      },
    },
    {
      name: 'production',
      ...common,
      apiDomain,
      size: {
        dbInstance: 'db.r6g.large',
        dbAllocatedGiB: 200,
        cacheNode: 'cache.r7g.large',
        cacheShards: 3,
        mqInstance: 'mq.m5.large',
        searchInstance: 'r6g.large.search',
        searchNodes: 3,
        apiTasks: { min: 3, max: 20 },
        workerTasks: { min: 2, max: 8 },
        natGateways: 3,
      },
    },
  ];
}
