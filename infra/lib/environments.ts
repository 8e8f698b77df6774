/**
 * The environments ShopFlow is deployed to, as stack properties. Accounts and the image tag come
 * from CDK context (`-c account=123456789012 -c imageTag=...`), so the same code synthesises for
 * any account; the defaults let `cdk synth` run anywhere, offline.
 */
export interface ShopFlowEnvironment {
  /** `staging` or `production`: part of every name. */
  name: 'staging' | 'production';
  account: string;
  region: string;
  /** The three Availability Zones of `region` (given, not looked up: synth needs no AWS call). */
  availabilityZones: [string, string, string];
  /** Where the invoices and backups buckets are replicated (another region). */
  replicaRegion: string;
  /** The ShopFlow image in the ECR repository `shopflow` (built from the Dockerfile by CI). */
  imageTag: string;
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
  /** Who receives the alarms (an SNS topic is created; subscribe this address). */
  alarmEmail?: string;
}

export function environments(context: { account?: string; imageTag?: string }): ShopFlowEnvironment[] {
  const account = context.account ?? '111111111111';
  const imageTag = context.imageTag ?? 'latest';
  const region = 'sa-east-1';
  const availabilityZones: [string, string, string] = ['sa-east-1a', 'sa-east-1b', 'sa-east-1c'];
  return [
    {
      name: 'staging',
      account,
      region,
      availabilityZones,
      replicaRegion: 'us-east-1',
      imageTag,
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
      account,
      region,
      availabilityZones,
      replicaRegion: 'us-east-1',
      imageTag,
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
