/** The service objectives as CloudWatch alarms, to the environment's SNS topic. */
import type {
  aws_amazonmq as mq,
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
  database: rds.DatabaseInstance;
  replica: rds.DatabaseInstanceReadReplica;
}

/** The service objectives as alarms, to an SNS topic. */
export function alarms(
  stack: Stack,
  targets: AlarmTargets,
  env: ShopFlowEnvironment,
  cache: elasticache.CfnReplicationGroup,
  broker: mq.CfnBroker,
  queueDepth: cloudwatch.Metric,
): void {
  const topic = new sns.Topic(stack, 'Alarms', {
    displayName: `ShopFlow ${env.name} alarms`,
    enforceSSL: true,
  });
  if (env.alarmEmail) topic.addSubscription(new subscriptions.EmailSubscription(env.alarmEmail));
  const action = new cwActions.SnsAction(topic);
  const alarm = (id: string, a: cloudwatch.AlarmProps) =>
    new cloudwatch.Alarm(stack, id, a).addAlarmAction(action);
  const lb = targets.api.loadBalancer;
  const errors5xx = new cloudwatch.MathExpression({
    expression: '100 * (e5 / MAX([reqs, 1]))',
    usingMetrics: {
      e5: lb.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, {
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
  alarm('OutboxLag', {
    alarmDescription: 'The oldest unpublished event is older than 2 minutes (broker or workers away)',
    metric: new cloudwatch.Metric({
      namespace: 'ShopFlow',
      metricName: 'shopflow_outbox_oldest_pending_seconds',
      dimensionsMap: { environment: env.name },
      statistic: 'Maximum',
      period: Duration.minutes(1),
    }),
    threshold: 120,
    evaluationPeriods: 3,
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
}
