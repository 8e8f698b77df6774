/**
 * The Lambda behind the stack's EngineUsers custom resources (infra/lib/engine-users.ts): creates
 * ShopFlow's own user on the RabbitMQ broker (management API) and on the OpenSearch domain
 * (security plugin API), with the password of the app secret, using the admin or master secret.
 * Amazon MQ's template takes only the admin user, and OpenSearch's only the master user, so
 * without this the app users were made by hand.
 *
 * - Create and Update apply the whole desired state with PUTs (create or replace): the user with
 *   the app secret's current password, its permissions (RabbitMQ: the vhost's `^shopflow\.`
 *   resources; OpenSearch: a role on the products indexes, mapped to the user). Applying twice
 *   changes nothing, so CloudFormation may retry or re-run an update safely.
 * - Delete removes nothing unless the resource says `RemoveOnDelete: "true"`: deleting the stack
 *   (or replacing the resource) must not cut running tasks off the engines.
 * - A direct invocation `{"Reapply": true}` (no CloudFormation) applies every engine of the
 *   function's `ENGINE_USERS` setting again: after a new password is put in an app secret
 *   (docs/deployment.md, rotation).
 *
 * It runs in the VPC's app subnets (the engines are reachable only there), reads the secrets with
 * the AWS SDK, never logs or returns a password, and answers CloudFormation on every path,
 * failures included, so a stack never waits an hour for a response.
 */
import { createHash, randomInt } from 'node:crypto';
import {
  DescribeSecretCommand,
  GetSecretValueCommand,
  PutSecretValueCommand,
  SecretsManagerClient,
  UpdateSecretVersionStageCommand,
} from '@aws-sdk/client-secrets-manager';

export type Engine = 'rabbitmq' | 'opensearch';

/** The custom resource's properties (CloudFormation passes every value as a string). */
export interface EngineUsersProperties {
  Engine: Engine;
  /** The broker's AMQPS endpoint (its management API is HTTPS on the same host) or the domain's URL. */
  Endpoint: string;
  /** `{username, password}` of the broker admin or the domain's master user. */
  AdminSecretArn: string;
  /** `{username, password}` of the user to create. */
  AppSecretArn: string;
  /** RabbitMQ: the vhost and the regular expression of the resources the user may use. */
  Vhost?: string;
  ResourcePattern?: string;
  /** OpenSearch: the index patterns the user's role covers, comma-separated. */
  IndexPatterns?: string;
  /** "true": Delete removes the user (and, on OpenSearch, its role and mapping). */
  RemoveOnDelete?: string;
}

export interface CloudFormationEvent {
  RequestType: 'Create' | 'Update' | 'Delete';
  ResponseURL: string;
  StackId: string;
  RequestId: string;
  LogicalResourceId: string;
  PhysicalResourceId?: string;
  ResourceProperties: EngineUsersProperties & { ServiceToken?: string };
}

interface Credentials {
  username: string;
  password: string;
}

/** What one request to an engine did, for the log and the response (never a password). */
export interface Step {
  method: string;
  path: string;
  status: number;
}

export interface Options {
  /** Reads a secret's `{username, password}` (the AWS SDK by default). */
  readSecret?: (arn: string) => Promise<Credentials>;
  /** Attempts per request on a network error, 429 or 5xx (an engine still starting). */
  attempts?: number;
  /** Pause before the first retry; doubled each time. */
  retryDelayMs?: number;
  /** Per request. */
  timeoutMs?: number;
}

const DEFAULTS = { attempts: 5, retryDelayMs: 2000, timeoutMs: 15_000 };

export class EngineRequestError extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    detail: string,
  ) {
    super(`${method} ${path} answered ${status}${detail ? `: ${detail}` : ''}`);
    this.name = 'EngineRequestError';
  }
}

let client: SecretsManagerClient | undefined;

/** The SDK reader: the secret's JSON must hold a username and a password. */
export async function readSecretWithSdk(arn: string): Promise<Credentials> {
  client ??= new SecretsManagerClient({});
  const answer = await client.send(new GetSecretValueCommand({ SecretId: arn }));
  return parseCredentials(answer.SecretString, arn);
}

function parseCredentials(text: string | undefined, arn: string): Credentials {
  let value: unknown;
  try {
    value = JSON.parse(text ?? '');
  } catch {
    throw new Error(`secret ${arn} is not JSON`);
  }
  const { username, password } = (value ?? {}) as Partial<Credentials>;
  if (typeof username !== 'string' || !username || typeof password !== 'string' || !password)
    throw new Error(`secret ${arn} has no username and password`);
  return { username, password };
}

/** The broker's management API: HTTPS on the host of its AMQPS endpoint (Amazon MQ for RabbitMQ). */
export function managementUrl(endpoint: string): string {
  const url = new URL(endpoint);
  if (url.protocol === 'amqps:' || url.protocol === 'amqp:') return `https://${url.hostname}`;
  return url.origin;
}

/** One JSON request with basic authentication, retried on what may pass (network, 429, 5xx). */
async function request(
  base: string,
  admin: Credentials,
  method: string,
  path: string,
  body: unknown,
  options: Required<Omit<Options, 'readSecret'>>,
  accept: number[] = [],
): Promise<Step> {
  const authorization = `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`;
  let delay = options.retryDelayMs;
  for (let attempt = 1; ; attempt++) {
    let status: number;
    let detail = '';
    try {
      const response = await fetch(`${base}${path}`, {
        method,
        headers: {
          authorization,
          accept: 'application/json',
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(options.timeoutMs),
      });
      status = response.status;
      // The engines' error bodies name the reason (never the password we sent); keep them short.
      detail = response.ok ? '' : (await response.text()).slice(0, 300);
      if (response.ok || accept.includes(status)) return { method, path, status };
    } catch (error) {
      status = 0;
      detail = (error as Error).message;
    }
    const transient = status === 0 || status === 429 || status >= 500;
    if (!transient || attempt >= options.attempts) throw new EngineRequestError(method, path, status, detail);
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay *= 2;
  }
}

/** Creates or updates the app user on the broker, with permissions on the vhost's ShopFlow resources. */
async function applyRabbitMq(
  props: EngineUsersProperties,
  admin: Credentials,
  app: Credentials,
  options: Required<Omit<Options, 'readSecret'>>,
): Promise<Step[]> {
  const base = managementUrl(props.Endpoint);
  const vhost = encodeURIComponent(props.Vhost ?? '/');
  const user = encodeURIComponent(app.username);
  const pattern = props.ResourcePattern ?? '^shopflow\\.';
  return [
    // No tag: the app user may not use the management API itself.
    await request(base, admin, 'PUT', `/api/users/${user}`, { password: app.password, tags: '' }, options),
    await request(
      base,
      admin,
      'PUT',
      `/api/permissions/${vhost}/${user}`,
      { configure: pattern, write: pattern, read: pattern },
      options,
    ),
  ];
}

const SECURITY = '/_plugins/_security/api';

/** The OpenSearch role of the app user: what ShopFlow's indexer and search do, on its indexes only. */
export function openSearchRole(indexPatterns: string[]) {
  return {
    cluster_permissions: ['cluster_composite_ops', 'cluster_monitor'],
    index_permissions: [
      {
        index_patterns: indexPatterns,
        allowed_actions: [
          'crud',
          'create_index',
          'manage_aliases',
          'indices_monitor',
          'indices:admin/mapping/put',
        ],
      },
    ],
  };
}

/** Creates or updates the role, the internal user and the mapping between them. */
async function applyOpenSearch(
  props: EngineUsersProperties,
  admin: Credentials,
  app: Credentials,
  options: Required<Omit<Options, 'readSecret'>>,
): Promise<Step[]> {
  const base = new URL(props.Endpoint).origin;
  const name = encodeURIComponent(app.username);
  // The role and its mapping carry the base name; the mapping names both users rotation
  // alternates between, so whichever the secret holds is mapped.
  const role = encodeURIComponent(baseName(app.username));
  const patterns = (props.IndexPatterns ?? 'products*').split(',').map((p) => p.trim());
  return [
    await request(base, admin, 'PUT', `${SECURITY}/roles/${role}`, openSearchRole(patterns), options),
    await request(
      base,
      admin,
      'PUT',
      `${SECURITY}/internalusers/${name}`,
      { password: app.password },
      options,
    ),
    await request(
      base,
      admin,
      'PUT',
      `${SECURITY}/rolesmapping/${role}`,
      { users: [baseName(app.username), cloneName(app.username)] },
      options,
    ),
  ];
}

/** Removes what apply created; what is already gone is fine (404). */
async function remove(
  props: EngineUsersProperties,
  admin: Credentials,
  app: Credentials,
  options: Required<Omit<Options, 'readSecret'>>,
): Promise<Step[]> {
  const name = encodeURIComponent(app.username);
  if (props.Engine === 'rabbitmq')
    return [
      await request(
        managementUrl(props.Endpoint),
        admin,
        'DELETE',
        `/api/users/${name}`,
        undefined,
        options,
        [404],
      ),
    ];
  const base = new URL(props.Endpoint).origin;
  const role = encodeURIComponent(baseName(app.username));
  const steps: Step[] = [];
  for (const path of [`rolesmapping/${role}`, `internalusers/${name}`, `roles/${role}`])
    steps.push(await request(base, admin, 'DELETE', `${SECURITY}/${path}`, undefined, options, [404]));
  return steps;
}

function validate(props: EngineUsersProperties): void {
  if (props.Engine !== 'rabbitmq' && props.Engine !== 'opensearch')
    throw new Error(`Engine must be rabbitmq or opensearch, not ${String(props.Engine)}`);
  for (const key of ['Endpoint', 'AdminSecretArn', 'AppSecretArn'] as const)
    if (!props[key]) throw new Error(`${key} is required`);
}

/** The physical id: the engine and the user, stable across updates (no replacement, no delete). */
export const physicalId = (engine: Engine, username: string) => `${engine}:${username}`;

/**
 * Applies (or on Delete, if asked, removes) one engine's app user; returns its physical id and
 * steps. A Delete that removes nothing reads no secret: it must succeed even when they are gone.
 */
export async function reconcile(
  requestType: CloudFormationEvent['RequestType'],
  props: EngineUsersProperties,
  options: Options = {},
  existingId?: string,
): Promise<{ physicalResourceId: string; steps: Step[] }> {
  validate(props);
  if (requestType === 'Delete' && props.RemoveOnDelete !== 'true')
    return { physicalResourceId: existingId ?? `${props.Engine}:not-created`, steps: [] };
  const settings = {
    attempts: options.attempts ?? DEFAULTS.attempts,
    retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
  };
  const read = options.readSecret ?? readSecretWithSdk;
  const [admin, app] = await Promise.all([read(props.AdminSecretArn), read(props.AppSecretArn)]);
  if (app.username === admin.username)
    throw new Error('the app user must not be the administrator (AppSecretArn names the admin user)');
  const id = physicalId(props.Engine, app.username);
  if (requestType === 'Delete')
    return { physicalResourceId: id, steps: await remove(props, admin, app, settings) };
  const apply = props.Engine === 'rabbitmq' ? applyRabbitMq : applyOpenSearch;
  return { physicalResourceId: id, steps: await apply(props, admin, app, settings) };
}

/** CloudFormation's answer, PUT to the pre-signed ResponseURL (an empty content type, as it signs). */
async function respond(
  event: CloudFormationEvent,
  status: 'SUCCESS' | 'FAILED',
  physicalResourceId: string,
  reason: string,
  data: Record<string, string> = {},
): Promise<void> {
  const body = JSON.stringify({
    Status: status,
    Reason: reason.slice(0, 900),
    PhysicalResourceId: physicalResourceId,
    StackId: event.StackId,
    RequestId: event.RequestId,
    LogicalResourceId: event.LogicalResourceId,
    Data: data,
  });
  for (let attempt = 1; ; attempt++) {
    try {
      const response = await fetch(event.ResponseURL, {
        method: 'PUT',
        headers: { 'content-type': '' },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      if (response.ok) return;
      if (attempt >= 3) throw new Error(`the response URL answered ${response.status}`);
    } catch (error) {
      if (attempt >= 3) throw error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000 * attempt));
  }
}

/** Engines the function re-applies on a direct `{"Reapply": true}` invocation (set by the stack). */
function configuredEngines(): EngineUsersProperties[] {
  const raw = process.env.ENGINE_USERS;
  if (!raw) throw new Error('ENGINE_USERS is not set');
  return JSON.parse(raw) as EngineUsersProperties[];
}

/** Rotation alternates between the user and its clone: the password running tasks hold stays valid. */
const CLONE = '_clone';
export const baseName = (username: string) =>
  username.endsWith(CLONE) ? username.slice(0, -CLONE.length) : username;
export const cloneName = (username: string) => `${baseName(username)}${CLONE}`;
const otherUser = (username: string) => (username.endsWith(CLONE) ? baseName(username) : cloneName(username));

/**
 * A new password: 32 characters of letters and digits with one of each class and a `-`, which
 * OpenSearch's password policy asks for and RabbitMQ and URLs take as they are.
 */
export function newPassword(): string {
  const alphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789';
  const chars = [
    ...Array.from({ length: 28 }, () => alphabet[randomInt(alphabet.length)]!),
    'Q',
    'q',
    '7',
    '-',
  ];
  for (let i = chars.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [chars[i], chars[j]] = [chars[j]!, chars[i]!];
  }
  return chars.join('');
}

/** Secrets Manager's rotation event (the function is the app secrets' rotation function too). */
export interface RotationEvent {
  SecretId: string;
  ClientRequestToken: string;
  Step: 'createSecret' | 'setSecret' | 'testSecret' | 'finishSecret';
}

/**
 * Multi-user rotation of an engine's app secret, Secrets Manager's four steps: a new password on
 * the other of `<user>` and `<user>_clone` (created with the same permissions), tested, then made
 * current. The user the running tasks hold is not touched until the rotation after next, so tasks
 * pick up the new one whenever they are replaced (a deploy within the 30 days between rotations).
 */
export async function rotate(event: RotationEvent, options: Options = {}): Promise<Step[]> {
  client ??= new SecretsManagerClient({});
  const sm = client;
  const props = configuredEngines().find((e) => e.AppSecretArn === event.SecretId);
  if (!props) throw new Error(`${event.SecretId} is not an app secret of this function`);
  const { SecretId, ClientRequestToken: token } = event;
  const described = await sm.send(new DescribeSecretCommand({ SecretId }));
  const stages = described.VersionIdsToStages ?? {};
  if (!described.RotationEnabled) throw new Error(`rotation is not enabled for ${SecretId}`);
  const staged = stages[token];
  if (!staged) throw new Error(`version ${token} of ${SecretId} is not staged for rotation`);
  if (staged.includes('AWSCURRENT')) return []; // already finished
  if (!staged.includes('AWSPENDING')) throw new Error(`version ${token} of ${SecretId} is not pending`);
  const version = async (stage: string, versionId?: string) => {
    const answer = await sm.send(
      new GetSecretValueCommand({
        SecretId,
        VersionStage: stage,
        ...(versionId ? { VersionId: versionId } : {}),
      }),
    );
    return { text: answer.SecretString ?? '', creds: parseCredentials(answer.SecretString, SecretId) };
  };
  const settings = {
    attempts: options.attempts ?? DEFAULTS.attempts,
    retryDelayMs: options.retryDelayMs ?? DEFAULTS.retryDelayMs,
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
  };
  const admin = async () => {
    const creds = await (options.readSecret ?? readSecretWithSdk)(props.AdminSecretArn);
    return creds;
  };
  switch (event.Step) {
    case 'createSecret': {
      const current = await version('AWSCURRENT');
      try {
        await version('AWSPENDING', token);
        return []; // created by an earlier attempt
      } catch (error) {
        if ((error as { name?: string }).name !== 'ResourceNotFoundException') throw error;
      }
      const next = {
        ...(JSON.parse(current.text) as Record<string, unknown>),
        username: otherUser(current.creds.username),
        password: newPassword(),
      };
      await sm.send(
        new PutSecretValueCommand({
          SecretId,
          ClientRequestToken: token,
          SecretString: JSON.stringify(next),
          VersionStages: ['AWSPENDING'],
        }),
      );
      return [];
    }
    case 'setSecret': {
      const pending = await version('AWSPENDING', token);
      const adminCreds = await admin();
      if (baseName(pending.creds.username) === baseName(adminCreds.username))
        throw new Error('the app user must not be the administrator (AppSecretArn names the admin user)');
      const apply = props.Engine === 'rabbitmq' ? applyRabbitMq : applyOpenSearch;
      return apply(props, adminCreds, pending.creds, settings);
    }
    case 'testSecret': {
      const pending = await version('AWSPENDING', token);
      return [await testLogin(props, await admin(), pending.creds, settings)];
    }
    case 'finishSecret': {
      const current = Object.entries(stages).find(([, s]) => s.includes('AWSCURRENT'))?.[0];
      await sm.send(
        new UpdateSecretVersionStageCommand({
          SecretId,
          VersionStage: 'AWSCURRENT',
          MoveToVersionId: token,
          ...(current ? { RemoveFromVersionId: current } : {}),
        }),
      );
      return [];
    }
  }
}

/**
 * Checks that the engine takes the new password. OpenSearch: the user's own authinfo request.
 * RabbitMQ: the user has no management tag (the management API refuses it either way), so the
 * admin reads the user's stored hash and it is checked against the password (RabbitMQ's default
 * rabbit_password_hashing_sha256: base64 of a 4-byte salt and the SHA-256 of salt + password).
 */
async function testLogin(
  props: EngineUsersProperties,
  admin: Credentials,
  app: Credentials,
  options: Required<Omit<Options, 'readSecret'>>,
): Promise<Step> {
  if (props.Engine === 'opensearch')
    return request(
      new URL(props.Endpoint).origin,
      app,
      'GET',
      '/_plugins/_security/authinfo',
      undefined,
      options,
    );
  const path = `/api/users/${encodeURIComponent(app.username)}`;
  const response = await fetch(`${managementUrl(props.Endpoint)}${path}`, {
    headers: {
      authorization: `Basic ${Buffer.from(`${admin.username}:${admin.password}`).toString('base64')}`,
      accept: 'application/json',
    },
    signal: AbortSignal.timeout(options.timeoutMs),
  });
  if (!response.ok) throw new EngineRequestError('GET', path, response.status, '');
  const user = (await response.json()) as { password_hash?: string; hashing_algorithm?: string };
  if (!rabbitHashMatches(user.password_hash ?? '', app.password, user.hashing_algorithm))
    throw new Error(`the broker's hash for ${app.username} does not match the new password`);
  return { method: 'GET', path, status: response.status };
}

/** RabbitMQ's salted password hash (sha256 by default, sha512 when the broker says so). */
export function rabbitHashMatches(
  hash: string,
  password: string,
  algorithm = 'rabbit_password_hashing_sha256',
): boolean {
  const bytes = Buffer.from(hash, 'base64');
  if (bytes.length < 5) return false;
  const salt = bytes.subarray(0, 4);
  const digest = createHash(algorithm.endsWith('sha512') ? 'sha512' : 'sha256')
    .update(Buffer.concat([salt, Buffer.from(password, 'utf8')]))
    .digest();
  return digest.equals(bytes.subarray(4));
}

const isRotation = (event: object): event is RotationEvent => 'Step' in event && 'SecretId' in event;

/** The Lambda entry point (the runtime's second argument, its context, is not used). */
export const handler = (event: CloudFormationEvent | RotationEvent | { Reapply: true }) =>
  isRotation(event) ? rotateLogged(event) : handle(event);

async function rotateLogged(event: RotationEvent): Promise<void> {
  const steps = await rotate(event);
  console.log(JSON.stringify({ rotation: event.Step, secret: event.SecretId, steps }));
}

/** What the handler does, with `options` for the tests (local endpoints, short retries). */
export async function handle(
  event: CloudFormationEvent | { Reapply: true },
  options: Options = {},
): Promise<unknown> {
  if ('Reapply' in event) {
    const results = [];
    for (const props of configuredEngines()) {
      const { physicalResourceId, steps } = await reconcile('Update', props, options);
      console.log(JSON.stringify({ reapplied: physicalResourceId, steps }));
      results.push({ physicalResourceId, steps });
    }
    return results;
  }
  const props = event.ResourceProperties;
  // Until the first success there is no user: a failed Create answers with this id, and the
  // Delete of CloudFormation's rollback then has nothing to remove.
  const notCreated = `${props.Engine}:not-created`;
  const existing = event.PhysicalResourceId;
  try {
    if (
      event.RequestType === 'Delete' &&
      (!existing?.startsWith(`${props.Engine}:`) || existing === notCreated)
    ) {
      await respond(event, 'SUCCESS', existing ?? notCreated, 'nothing was created');
      return undefined;
    }
    const { physicalResourceId, steps } = await reconcile(event.RequestType, props, options, existing);
    console.log(JSON.stringify({ request: event.RequestType, physicalResourceId, steps }));
    await respond(
      event,
      'SUCCESS',
      physicalResourceId,
      steps.length ? steps.map((s) => `${s.method} ${s.path} ${s.status}`).join('; ') : 'nothing removed',
      { Username: physicalResourceId.slice(props.Engine.length + 1) },
    );
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    console.error(JSON.stringify({ request: event.RequestType, failed: reason }));
    await respond(event, 'FAILED', existing ?? notCreated, reason);
  }
  return undefined;
}
