/** The CDK context the infra tests synthesise with (what `cdk synth -c ...` would be given). */
import type { EnvironmentContext } from '../../infra/lib/environments.ts';

export const CONTEXT_ENV: EnvironmentContext = {
  account: '123456789012',
  imageTag: 'abc123',
  alarmEmail: 'oncall@shopflow.example.com',
  apiDomain: 'api.shopflow.example.com',
};
