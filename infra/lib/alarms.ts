/** The service objectives as CloudWatch alarms, to the environment's SNS topic. */
import type {
  aws_amazonmq as mq,
  aws_ecs as ecs,
  aws_opensearchservice as opensearch,
  aws_ecs_patterns as ecsPatterns,
  aws_elasticache as elasticache,
  aws_rds as rds,
} from 'aws-cdk-lib';
import {
  Duration,
  type Stack,
  aws_cloudwatch as cloudwatch,
  aws_cloudwatch_actions as cwActions,
  aws_elasticloadbalancingv2 as elbv2,
  aws_sns as sns,
  aws_sns_subscriptions as subscriptions,
} from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';
import { CONSUMERS } from './names.ts';

export interface AlarmTargets {
  api: ecsPatterns.ApplicationLoadBalancedFargateService;
  worker: ecs.FargateService;
  database: rds.DatabaseInstance;
  replica: rds.DatabaseInstanceReadReplica;
}

/**
 * The ShopFlow metrics the worker publishes every minute as CloudWatch embedded metrics (the
 * publish-cloudwatch-metrics job), with the thresholds of their alarms.
 */
export const APP_ALARMS = [
  {
    id: 'OutboxLag',
    metric: 'shopflow_outbox_oldest_pending_seconds',
    threshold: 120,
    description: 'The oldest unpublished event is older than 2 minutes (broker or workers away)',
  },
  {
    id: 'BackupAge',
    metric: 'shopflow_backup_newest_age_seconds',
    // Backups run hourly (RPO 1 h): two missed runs page.
    threshold: 2 * 3600 + 600,
    description: 'The newest backup is older than 2 h 10 min: the hourly backup job stopped (RPO 1 h)',
  },
  {
    id: 'VerifiedBackupAge',
    metric: 'shopflow_backup_newest_verified_age_seconds',
    // Verified daily: a day and a few hours without a verified backup pages.
    threshold: 26 * 3600,
    description: 'No backup restored and verified in the last 26 h (backup-verify stopped or fails)',
  },
  {
    id: 'JobFailures',
    metric: 'shopflow_job_failures_last_hour',
    threshold: 0,
    description: 'Scheduled jobs failed in the last hour (see GET /admin/jobs)',
  },
] as const;

/** The service objectives as alarms, to an SNS topic. */
export function alarms(
  stack: Stack,
  targets: AlarmTargets,
  env: ShopFlowEnvironment,
  cache: elasticache.CfnReplicationGroup,
  broker: mq.CfnBroker,
  queueDepth: cloudwatch.Metric,
  search: opensearch.Domain,
): void {
  const topic = new sns.Topic(stack, 'Alarms', {
    displayName: `ShopFlow ${env.name} alarms`,
    enforceSSL: true,
  });
  // Required: an environment without an address to page does not synthesise (environments.ts).
  topic.addSubscription(new subscriptions.EmailSubscription(env.alarmEmail));
  const action = new cwActions.SnsAction(topic);
  const alarm = (id: string, a: cloudwatch.AlarmProps) =>
    new cloudwatch.Alarm(stack, id, a).addAlarmAction(action);
  const lb = targets.api.loadBalancer;
  const errors5xx = new cloudwatch.MathExpression({
    // The targets' 5xx and the load balancer's own (502/503/504 when tasks are down or slow).
    expression: '100 * ((FILL(e5, 0) + FILL(elb5, 0)) / MAX([reqs, 1]))',
    usingMetrics: {
      e5: lb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
        period: Duration.minutes(1),
        statistic: 'Sum',
      }),
      elb5: lb.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, {
        period: Duration.minutes(1),
        statistic: 'Sum',
      }),
      reqs: lb.metrics.requestCount({ period: Duration.minutes(1), statistic: 'Sum' }),
    },
    label: '5xx % of requests',
    period: Duration.minutes(1),
  });
  alarm('Api5xxRate', {
    alarmDescription: 'More than 1% of API answers are 5xx (SLO: 99.9% of requests succeed)',
    metric: errors5xx,
    threshold: 1,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
  });
  alarm('ApiLatencyP99', {
    alarmDescription: 'API p99 latency above 500 ms',
    metric: lb.metrics.targetResponseTime({ statistic: 'p99', period: Duration.minutes(1) }),
    threshold: 0.5,
    evaluationPeriods: 5,
    datapointsToAlarm: 3,
  });
  for (const a of APP_ALARMS)
    alarm(a.id, {
      alarmDescription: a.description,
      metric: new cloudwatch.Metric({
        namespace: 'ShopFlow',
        metricName: a.metric,
        dimensionsMap: { environment: env.name },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: a.threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data means the worker publishes nothing: as bad as the figure itself.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  alarm('ReplicaLag', {
    alarmDescription: 'The read replica is more than 30 s behind',
    metric: targets.replica.metric('ReplicaLag', { statistic: 'Maximum', period: Duration.minutes(1) }),
    threshold: 30,
    evaluationPeriods: 5,
  });
  alarm('DatabaseFreeStorage', {
    alarmDescription: 'Less than 10 GiB of database storage left',
    metric: targets.database.metricFreeStorageSpace({ period: Duration.minutes(5) }),
    threshold: 10 * 1024 ** 3,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 1,
  });
  for (const consumer of CONSUMERS) {
    alarm(`DeadLetters-${consumer}`, {
      alarmDescription: `Events the ${consumer} consumer refused five times are waiting in shopflow.${consumer}.dead`,
      metric: new cloudwatch.Metric({
        namespace: 'AWS/AmazonMQ',
        metricName: 'MessageCount',
        dimensionsMap: { Broker: broker.brokerName, VirtualHost: '/', Queue: `shopflow.${consumer}.dead` },
        statistic: 'Maximum',
        period: Duration.minutes(5),
      }),
      threshold: 0,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
    });
  }
  alarm('QueueBacklog', {
    alarmDescription: 'More than 10,000 messages waiting in the broker',
    metric: queueDepth,
    threshold: 10_000,
    evaluationPeriods: 5,
  });
  alarm('CacheMemory', {
    alarmDescription: 'Redis memory above 80%',
    metric: new cloudwatch.Metric({
      namespace: 'AWS/ElastiCache',
      metricName: 'DatabaseMemoryUsagePercentage',
      dimensionsMap: { ReplicationGroupId: cache.ref },
      statistic: 'Maximum',
      period: Duration.minutes(5),
    }),
    threshold: 80,
    evaluationPeriods: 3,
  });
  serviceAlarms(targets, env, alarm);
  engineAlarms(targets, broker, search, alarm);
}

type AlarmFn = (id: string, a: cloudwatch.AlarmProps) => void;

/** Capacity: healthy targets behind the load balancer, running tasks of each service. */
function serviceAlarms(targets: AlarmTargets, env: ShopFlowEnvironment, alarm: AlarmFn) {
  alarm('ApiHealthyHosts', {
    alarmDescription: `Fewer healthy api targets than the minimum of ${env.size.apiTasks.min}`,
    metric: targets.api.targetGroup.metrics.healthyHostCount({
      period: Duration.minutes(1),
      statistic: 'Minimum',
    }),
    threshold: env.size.apiTasks.min,
    comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
    evaluationPeriods: 3,
    treatMissingData: cloudwatch.TreatMissingData.BREACHING,
  });
  const running = (service: ecs.BaseService, min: number, role: string) =>
    alarm(`RunningTasks-${role}`, {
      alarmDescription: `Fewer running ${role} tasks than the minimum of ${min}`,
      metric: new cloudwatch.Metric({
        namespace: 'ECS/ContainerInsights',
        metricName: 'RunningTaskCount',
        dimensionsMap: { ClusterName: service.cluster.clusterName, ServiceName: service.serviceName },
        statistic: 'Minimum',
        period: Duration.minutes(1),
      }),
      threshold: min,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
  running(targets.api.service, env.size.apiTasks.min, 'api');
  running(targets.worker, env.size.workerTasks.min, 'worker');
}

/** The engines: database CPU and connections, OpenSearch cluster status, broker memory. */
function engineAlarms(
  targets: AlarmTargets,
  broker: mq.CfnBroker,
  search: opensearch.Domain,
  alarm: AlarmFn,
) {
  alarm('DatabaseCpu', {
    alarmDescription: 'Database CPU above 80% for 15 minutes',
    metric: targets.database.metricCPUUtilization({ period: Duration.minutes(5) }),
    threshold: 80,
    evaluationPeriods: 3,
  });
  alarm('DatabaseConnections', {
    alarmDescription: 'More than 400 database connections (the pools of every task together stay below)',
    metric: targets.database.metricDatabaseConnections({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 400,
    evaluationPeriods: 2,
  });
  alarm('SearchClusterRed', {
    alarmDescription: 'OpenSearch cluster status red (a primary shard is unassigned)',
    metric: search.metricClusterStatusRed({ period: Duration.minutes(1), statistic: 'Maximum' }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 1,
  });
  alarm('SearchClusterYellow', {
    alarmDescription: 'OpenSearch cluster status yellow for 15 minutes (a replica shard is unassigned)',
    metric: search.metricClusterStatusYellow({ period: Duration.minutes(5), statistic: 'Maximum' }),
    threshold: 1,
    comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    evaluationPeriods: 3,
  });
  alarm('BrokerMemory', {
    alarmDescription:
      'RabbitMQ memory above 80% of its high watermark on a node (publishers get blocked at 100%)',
    metric: new cloudwatch.MathExpression({
      expression: '100 * used / MAX([limit, 1])',
      usingMetrics: {
        used: new cloudwatch.Metric({
          namespace: 'AWS/AmazonMQ',
          metricName: 'RabbitMQMemUsed',
          dimensionsMap: { Broker: broker.brokerName },
          statistic: 'Maximum',
          period: Duration.minutes(5),
        }),
        limit: new cloudwatch.Metric({
          namespace: 'AWS/AmazonMQ',
          metricName: 'RabbitMQMemLimit',
          dimensionsMap: { Broker: broker.brokerName },
          statistic: 'Minimum',
          period: Duration.minutes(5),
        }),
      },
      period: Duration.minutes(5),
    }),
    threshold: 80,
    evaluationPeriods: 2,
  });
}
