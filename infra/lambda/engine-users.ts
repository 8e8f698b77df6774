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
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

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
  const patterns = (props.IndexPatterns ?? 'products*').split(',').map((p) => p.trim());
  return [
    await request(base, admin, 'PUT', `${SECURITY}/roles/${name}`, openSearchRole(patterns), options),
    await request(
      base,
      admin,
      'PUT',
      `${SECURITY}/internalusers/${name}`,
      { password: app.password },
      options,
    ),
    await request(base, admin, 'PUT', `${SECURITY}/rolesmapping/${name}`, { users: [app.username] }, options),
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
  const steps: Step[] = [];
  for (const kind of ['rolesmapping', 'internalusers', 'roles'])
    steps.push(
      await request(base, admin, 'DELETE', `${SECURITY}/${kind}/${name}`, undefined, options, [404]),
    );
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

/** The Lambda entry point (the runtime's second argument, its context, is not used). */
export const handler = (event: CloudFormationEvent | { Reapply: true }) => handle(event);

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
