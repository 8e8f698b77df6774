/**
 * One KMS key per kind of data, so that a grant on one never opens another: the engines' storage
 * (RDS, Performance Insights, Redis, RabbitMQ, OpenSearch), the secrets, the buckets, the backups
 * bucket alone, and the log groups. Each rotates yearly.
 */
import { type Stack, aws_kms as kms } from 'aws-cdk-lib';
import type { ShopFlowEnvironment } from './environments.ts';

export interface Keys {
  data: kms.Key;
  secrets: kms.Key;
  storage: kms.Key;
  backups: kms.Key;
  logs: kms.Key;
}

export function keys(stack: Stack, env: ShopFlowEnvironment): Keys {
  const key = (id: string, what: string) =>
    new kms.Key(stack, id, { enableKeyRotation: true, description: `ShopFlow ${env.name} ${what}` });
  return {
    // The first key keeps the id it had when it was the only one (no replacement of the RDS key).
    data: key('DataKey', 'data'),
    secrets: key('SecretsKey', 'secrets'),
    storage: key('StorageKey', 'buckets'),
    backups: key('BackupsKey', 'backups bucket'),
    logs: key('LogsKey', 'container logs'),
  };
}
