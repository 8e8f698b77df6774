/**
 * The EngineUsers Lambda (infra/lambda/engine-users.ts), run against local endpoints: it reads the
 * admin and app secrets through the official AWS SDK from a local Secrets Manager, creates the app
 * user on a RabbitMQ management API and on an OpenSearch security API that keep state like the
 * real ones (test/infra/engine-endpoints.ts), and answers CloudFormation's response URL. Checked:
 * what each engine holds afterwards, that applying twice changes nothing, that a new password in
 * the secret reaches the engine on update, that Delete removes nothing unless asked, retries on a
 * broker still starting, and that no password reaches a response or a log line.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  type CloudFormationEvent,
  type EngineUsersProperties,
  handle,
  handler,
  managementUrl,
  rotate,
} from '../../infra/lambda/engine-users.ts';
import {
  type Endpoint,
  type OpenSearch,
  type RabbitMq,
  type SecretsManager,
  startOpenSearch,
  startRabbitMq,
  startResponseUrl,
  startSecretsManager,
} from './engine-endpoints.ts';

const ARN = (name: string) =>
  `arn:aws:secretsmanager:sa-east-1:123456789012:secret:shopflow/staging/${name}-AbCdEf`;
const BROKER_ADMIN = { username: 'shopflow', password: 'broker-admin-Secret-1' };
const SEARCH_MASTER = { username: 'shopflow', password: 'Search-Master-Secret-2!' };
const APP = { username: 'shopflow_app', password: 'app-Password-3' };
const FAST = { attempts: 3, retryDelayMs: 10, timeoutMs: 2000 };

let rabbit: RabbitMq;
let search: OpenSearch;
let secrets: SecretsManager;
let cfn: Endpoint;
const logged: string[] = [];

beforeAll(async () => {
  rabbit = await startRabbitMq({ user: BROKER_ADMIN.username, password: BROKER_ADMIN.password });
  search = await startOpenSearch({ user: SEARCH_MASTER.username, password: SEARCH_MASTER.password });
  secrets = await startSecretsManager({
    [ARN('rabbitmq')]: BROKER_ADMIN,
    [ARN('rabbitmq-app')]: APP,
    [ARN('opensearch')]: SEARCH_MASTER,
    [ARN('opensearch-app')]: APP,
  });
  cfn = await startResponseUrl();
  // The SDK's standard settings, pointed at the local Secrets Manager.
  process.env.AWS_REGION = 'sa-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'AKIDLOCAL';
  process.env.AWS_SECRET_ACCESS_KEY = 'local-secret';
  process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER = secrets.url;
  for (const level of ['log', 'error'] as const)
    vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(' '));
    });
});
afterAll(async () => {
  vi.restoreAllMocks();
  await Promise.all([rabbit, search, secrets, cfn].map((e) => e.close()));
});
afterEach(() => {
  for (const e of [rabbit, search, secrets, cfn]) {
    e.requests.length = 0;
    e.failNext.length = 0;
  }
});

const rabbitProps = (extra: Partial<EngineUsersProperties> = {}): EngineUsersProperties => ({
  Engine: 'rabbitmq',
  Endpoint: rabbit.url,
  AdminSecretArn: ARN('rabbitmq'),
  AppSecretArn: ARN('rabbitmq-app'),
  Vhost: '/',
  ResourcePattern: '^shopflow\\.',
  ...extra,
});
const searchProps = (extra: Partial<EngineUsersProperties> = {}): EngineUsersProperties => ({
  Engine: 'opensearch',
  Endpoint: search.url,
  AdminSecretArn: ARN('opensearch'),
  AppSecretArn: ARN('opensearch-app'),
  IndexPatterns: 'products*',
  ...extra,
});

let requestNo = 0;
const event = (
  RequestType: CloudFormationEvent['RequestType'],
  ResourceProperties: EngineUsersProperties,
  PhysicalResourceId?: string,
): CloudFormationEvent => ({
  RequestType,
  ResponseURL: `${cfn.url}/cloudformation-custom-resource-response/${++requestNo}?X-Amz-Signature=abc`,
  StackId: 'arn:aws:cloudformation:sa-east-1:123456789012:stack/ShopFlow-staging/guid',
  RequestId: `request-${requestNo}`,
  LogicalResourceId: 'BrokerAppUser',
  ...(PhysicalResourceId ? { PhysicalResourceId } : {}),
  ResourceProperties: {
    ServiceToken: 'arn:aws:lambda:sa-east-1:123456789012:function:x',
    ...ResourceProperties,
  },
});

/** The one answer CloudFormation received for the last event. */
const answer = () => {
  expect(cfn.requests).toHaveLength(1);
  const r = cfn.requests[0]!;
  expect(r.method).toBe('PUT');
  // The pre-signed URL is signed without a content type: send none.
  expect(r.headers['content-type']).toBe('');
  return r.body as {
    Status: string;
    Reason: string;
    PhysicalResourceId: string;
    RequestId: string;
    Data: Record<string, string>;
  };
};

const noPasswordIn = (text: string) => {
  for (const p of [BROKER_ADMIN.password, SEARCH_MASTER.password, APP.password, 'app-Password-4'])
    expect(text).not.toContain(p);
};

describe('EngineUsers Lambda', () => {
  it('creates the broker app user with its password, no management tag, and ShopFlow-only permissions', async () => {
    await handle(event('Create', rabbitProps()), FAST);
    const a = answer();
    expect(a).toMatchObject({
      Status: 'SUCCESS',
      PhysicalResourceId: 'rabbitmq:shopflow_app',
      Data: { Username: 'shopflow_app' },
    });
    expect(a.RequestId).toBe(`request-${requestNo}`);
    expect(rabbit.users.get('shopflow_app')).toEqual({ password: APP.password, tags: '' });
    expect(rabbit.permissions.get('/\u0000shopflow_app')).toEqual({
      configure: '^shopflow\\.',
      write: '^shopflow\\.',
      read: '^shopflow\\.',
    });
    // As the admin, read through the SDK (signed requests to Secrets Manager).
    expect(rabbit.requests.map((r) => [r.method, r.path, r.who])).toEqual([
      ['PUT', '/api/users/shopflow_app', 'shopflow'],
      ['PUT', '/api/permissions///shopflow_app', 'shopflow'],
    ]);
    expect(secrets.requests.map((r) => r.who)).toEqual([
      'secretsmanager.GetSecretValue',
      'secretsmanager.GetSecretValue',
    ]);
    expect(
      secrets.requests.every((r) => String(r.headers.authorization).startsWith('AWS4-HMAC-SHA256')),
    ).toBe(true);
    noPasswordIn(JSON.stringify(a));
    noPasswordIn(logged.join('\n'));
  });

  it('creates the search role, the internal user and the mapping, role first', async () => {
    await handle(event('Create', searchProps()), FAST);
    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'opensearch:shopflow_app' });
    expect(search.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'PUT /_plugins/_security/api/roles/shopflow_app',
      'PUT /_plugins/_security/api/internalusers/shopflow_app',
      'PUT /_plugins/_security/api/rolesmapping/shopflow_app',
    ]);
    expect(search.internalUsers.get('shopflow_app')).toEqual({ password: APP.password });
    // Both users rotation alternates between are mapped, whichever the secret holds.
    expect(search.rolesMapping.get('shopflow_app')).toEqual({
      users: ['shopflow_app', 'shopflow_app_clone'],
    });
    const role = search.roles.get('shopflow_app') as {
      index_permissions: { index_patterns: string[]; allowed_actions: string[] }[];
    };
    expect(role.index_permissions).toHaveLength(1);
    expect(role.index_permissions[0]!.index_patterns).toEqual(['products*']);
    expect(role.index_permissions[0]!.allowed_actions).toEqual(
      expect.arrayContaining(['crud', 'create_index', 'manage_aliases']),
    );
    noPasswordIn(logged.join('\n'));
  });

  it('is idempotent on update, and a new password in the app secret reaches both engines', async () => {
    // The same state again: nothing changes (RabbitMQ answers 204 updated, OpenSearch 200 OK).
    const before = { users: [...rabbit.users.keys()], roles: [...search.roles.keys()] };
    await handle(event('Update', rabbitProps(), 'rabbitmq:shopflow_app'), FAST);
    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'rabbitmq:shopflow_app' });
    expect(answer().Reason).toBe(
      'PUT /api/users/shopflow_app 204; PUT /api/permissions/%2F/shopflow_app 204',
    );
    expect([...rabbit.users.keys()]).toEqual(before.users);
    cfn.requests.length = 0;
    // The operator put a new password in the secret: an update (or a Reapply) sets it.
    secrets.setCurrent(ARN('rabbitmq-app'), { ...APP, password: 'app-Password-4' });
    secrets.setCurrent(ARN('opensearch-app'), { ...APP, password: 'app-Password-4' });
    try {
      await handle(event('Update', rabbitProps(), 'rabbitmq:shopflow_app'), FAST);
      expect(answer().Status).toBe('SUCCESS');
      expect(rabbit.users.get('shopflow_app')?.password).toBe('app-Password-4');
      cfn.requests.length = 0;
      process.env.ENGINE_USERS = JSON.stringify([rabbitProps(), searchProps()]);
      const results = (await handle({ Reapply: true }, FAST)) as { physicalResourceId: string }[];
      expect(results.map((r) => r.physicalResourceId)).toEqual([
        'rabbitmq:shopflow_app',
        'opensearch:shopflow_app',
      ]);
      expect(cfn.requests).toHaveLength(0); // not a CloudFormation request: nothing to answer
      expect(search.internalUsers.get('shopflow_app')).toEqual({ password: 'app-Password-4' });
      expect([...search.roles.keys()]).toEqual(before.roles);
      noPasswordIn(logged.join('\n'));
    } finally {
      secrets.setCurrent(ARN('rabbitmq-app'), APP);
      secrets.setCurrent(ARN('opensearch-app'), APP);
      delete process.env.ENGINE_USERS;
    }
  });

  it('retries while the broker is not ready, and fails (answering CloudFormation) on a refusal', async () => {
    rabbit.failNext.push(503, 503);
    await handle(event('Update', rabbitProps(), 'rabbitmq:shopflow_app'), FAST);
    expect(answer().Status).toBe('SUCCESS');
    expect(rabbit.requests.filter((r) => r.path === '/api/users/shopflow_app')).toHaveLength(3);
    cfn.requests.length = 0;
    rabbit.requests.length = 0;
    // Wrong admin credentials: 401 is not retried; the stack gets FAILED with the reason, no password.
    secrets.setCurrent(ARN('rabbitmq'), { ...BROKER_ADMIN, password: 'wrong' });
    try {
      await handle(event('Update', rabbitProps(), 'rabbitmq:shopflow_app'), FAST);
      const a = answer();
      expect(a.Status).toBe('FAILED');
      expect(a.PhysicalResourceId).toBe('rabbitmq:shopflow_app'); // unchanged: no replacement
      expect(a.Reason).toMatch(/PUT \/api\/users\/shopflow_app answered 401/);
      expect(rabbit.requests).toHaveLength(1);
      noPasswordIn(JSON.stringify(a));
    } finally {
      secrets.setCurrent(ARN('rabbitmq'), BROKER_ADMIN);
    }
    cfn.requests.length = 0;
    // Still down after every attempt: FAILED, not a hung stack.
    rabbit.failNext.push(503, 503, 503);
    await handle(event('Update', rabbitProps(), 'rabbitmq:shopflow_app'), FAST);
    expect(answer().Status).toBe('FAILED');
    expect(answer().Reason).toMatch(/answered 503/);
  });

  it('refuses an app secret that names the administrator', async () => {
    await handle(event('Create', rabbitProps({ AppSecretArn: ARN('rabbitmq') })), FAST);
    expect(answer()).toMatchObject({ Status: 'FAILED', PhysicalResourceId: 'rabbitmq:not-created' });
    expect(answer().Reason).toMatch(/must not be the administrator/);
    expect(rabbit.requests).toHaveLength(0);
  });

  it('removes nothing on delete unless asked; asked, removes the user, role and mapping (and 404 is fine)', async () => {
    await handle(event('Delete', rabbitProps(), 'rabbitmq:shopflow_app'), FAST);
    expect(answer()).toMatchObject({ Status: 'SUCCESS', PhysicalResourceId: 'rabbitmq:shopflow_app' });
    expect(rabbit.requests).toHaveLength(0);
    expect(secrets.requests).toHaveLength(0); // a delete that removes nothing reads no secret
    expect(rabbit.users.has('shopflow_app')).toBe(true);
    cfn.requests.length = 0;
    // The rollback of a create that failed: nothing to do.
    await handle(event('Delete', rabbitProps({ RemoveOnDelete: 'true' }), 'rabbitmq:not-created'), FAST);
    expect(answer().Status).toBe('SUCCESS');
    expect(rabbit.requests).toHaveLength(0);
    cfn.requests.length = 0;

    await handle(event('Delete', rabbitProps({ RemoveOnDelete: 'true' }), 'rabbitmq:shopflow_app'), FAST);
    expect(answer().Status).toBe('SUCCESS');
    expect(rabbit.users.has('shopflow_app')).toBe(false);
    expect(rabbit.permissions.has('/\u0000shopflow_app')).toBe(false);
    expect(rabbit.users.has('shopflow')).toBe(true); // the admin stays
    cfn.requests.length = 0;
    await handle(event('Delete', searchProps({ RemoveOnDelete: 'true' }), 'opensearch:shopflow_app'), FAST);
    expect(answer().Status).toBe('SUCCESS');
    expect([search.roles.size, search.internalUsers.size, search.rolesMapping.size]).toEqual([0, 0, 0]);
    cfn.requests.length = 0;
    // Again: already gone (404) is success.
    await handle(event('Delete', rabbitProps({ RemoveOnDelete: 'true' }), 'rabbitmq:shopflow_app'), FAST);
    expect(answer().Status).toBe('SUCCESS');
  });

  it('rotates an app secret multi-user: the other of user and clone gets a new password, tested, then made current', async () => {
    process.env.ENGINE_USERS = JSON.stringify([rabbitProps(), searchProps()]);
    try {
      for (const [engine, arn] of [
        ['rabbitmq', ARN('rabbitmq-app')],
        ['opensearch', ARN('opensearch-app')],
      ] as const) {
        secrets.setCurrent(arn, APP);
        const before = APP.password;
        const run = async (token: string) => {
          secrets.startRotation(arn, token);
          for (const Step of ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const)
            await rotate({ SecretId: arn, ClientRequestToken: token, Step }, FAST);
        };
        const passwordOf = (user: string) =>
          engine === 'rabbitmq' ? rabbit.users.get(user)?.password : search.internalUsers.get(user)?.password;
        // First rotation: the clone, with a new password; the user running tasks hold is untouched.
        const token1 = `${engine}-rotation-1`;
        secrets.startRotation(arn, token1);
        await rotate({ SecretId: arn, ClientRequestToken: token1, Step: 'createSecret' }, FAST);
        await rotate({ SecretId: arn, ClientRequestToken: token1, Step: 'createSecret' }, FAST); // retried: no-op
        const pending = JSON.parse(
          secrets.versions.get(arn)!.find((v) => v.id === token1)!.value!,
        ) as typeof APP;
        expect(pending.username).toBe('shopflow_app_clone');
        expect(pending.password).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)(?=.*-)[A-Za-z0-9-]{32}$/);
        expect(JSON.parse(secrets.current(arn)!)).toEqual(APP); // not current yet
        for (const Step of ['setSecret', 'testSecret', 'finishSecret'] as const)
          await rotate({ SecretId: arn, ClientRequestToken: token1, Step }, FAST);
        expect(JSON.parse(secrets.current(arn)!)).toEqual(pending);
        expect(secrets.versions.get(arn)!.find((v) => v.stages.includes('AWSPREVIOUS'))?.value).toBe(
          JSON.stringify(APP),
        );
        expect(passwordOf('shopflow_app_clone')).toBe(pending.password);
        if (engine === 'rabbitmq') {
          expect(rabbit.users.get('shopflow_app_clone')?.tags).toBe('');
          expect(rabbit.permissions.get('/\u0000shopflow_app_clone')?.read).toBe('^shopflow\\.');
        } else {
          expect(search.rolesMapping.get('shopflow_app')).toEqual({
            users: ['shopflow_app', 'shopflow_app_clone'],
          });
        }
        // Second rotation: back to the user, a new password again; the clone keeps its own.
        await run(`${engine}-rotation-2`);
        const second = JSON.parse(secrets.current(arn)!) as typeof APP;
        expect(second.username).toBe('shopflow_app');
        expect(second.password).not.toBe(before);
        expect(passwordOf('shopflow_app')).toBe(second.password);
        expect(passwordOf('shopflow_app_clone')).toBe(pending.password);
      }
      // The test step refuses a password the engine does not take.
      const arn = ARN('rabbitmq-app');
      secrets.startRotation(arn, 'rabbitmq-rotation-3');
      await rotate({ SecretId: arn, ClientRequestToken: 'rabbitmq-rotation-3', Step: 'createSecret' }, FAST);
      await rotate({ SecretId: arn, ClientRequestToken: 'rabbitmq-rotation-3', Step: 'setSecret' }, FAST);
      rabbit.users.get('shopflow_app_clone')!.password = 'changed-behind-our-back';
      await expect(
        rotate({ SecretId: arn, ClientRequestToken: 'rabbitmq-rotation-3', Step: 'testSecret' }, FAST),
      ).rejects.toThrow(/does not match/);
      // The Lambda entry point takes rotation events too (Secrets Manager's invocation).
      await handler({ SecretId: arn, ClientRequestToken: 'rabbitmq-rotation-3', Step: 'setSecret' });
      await handler({ SecretId: arn, ClientRequestToken: 'rabbitmq-rotation-3', Step: 'testSecret' });
      noPasswordIn(logged.join('\n'));
      for (const v of secrets.versions.get(arn)!)
        if (v.value) expect(logged.join('\n')).not.toContain((JSON.parse(v.value) as typeof APP).password);
    } finally {
      delete process.env.ENGINE_USERS;
    }
  });

  it("reaches Amazon MQ's management API on the host of the broker's AMQPS endpoint", () => {
    expect(managementUrl('amqps://b-1234-abcd.mq.sa-east-1.amazonaws.com:5671')).toBe(
      'https://b-1234-abcd.mq.sa-east-1.amazonaws.com',
    );
    expect(managementUrl('https://b-1.mq.sa-east-1.amazonaws.com/')).toBe(
      'https://b-1.mq.sa-east-1.amazonaws.com',
    );
  });
});
