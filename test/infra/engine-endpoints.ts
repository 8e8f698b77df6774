/**
 * Local stand-ins for what the EngineUsers Lambda talks to, each keeping the state the real one
 * would and recording every request: the RabbitMQ management API (users, vhost permissions), the
 * OpenSearch security plugin's REST API (roles, internal users, role mappings, authinfo), AWS
 * Secrets Manager (the JSON protocol the official SDK speaks, with versions and staging labels),
 * and CloudFormation's
 * pre-signed response URL. No RabbitMQ management plugin runs on this machine (nothing listens on
 * 15672) and no OpenSearch; the answers follow the engines' documented statuses (RabbitMQ: 201
 * created, 204 updated or deleted, 404 unknown; OpenSearch: 201 CREATED, 200 OK, 404 NOT_FOUND).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  /** The basic-auth user, or the X-Amz-Target of a Secrets Manager call. */
  who: string;
  headers: IncomingMessage['headers'];
  body: unknown;
}

export interface Endpoint {
  url: string;
  requests: Recorded[];
  /** Statuses to answer (in order) before behaving normally: a broker still starting. */
  failNext: number[];
  close(): Promise<void>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

const basicUser = (req: IncomingMessage): { user: string; password: string } | undefined => {
  const m = /^Basic (.+)$/.exec(req.headers.authorization ?? '');
  if (!m) return undefined;
  const text = Buffer.from(m[1]!, 'base64').toString('utf8');
  const i = text.indexOf(':');
  return { user: text.slice(0, i), password: text.slice(i + 1) };
};

async function serve(
  handle: (req: IncomingMessage, body: unknown, res: ServerResponse) => void,
  who: (req: IncomingMessage) => string,
): Promise<Endpoint> {
  const requests: Recorded[] = [];
  const failNext: number[] = [];
  const server = createServer((req, res) => {
    void readBody(req).then((text) => {
      let body: unknown = text;
      try {
        body = text ? JSON.parse(text) : undefined;
      } catch {
        // kept as text
      }
      const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
      requests.push({ method: req.method ?? '', path, who: who(req), headers: req.headers, body });
      const status = failNext.shift();
      if (status !== undefined) {
        res.writeHead(status, { 'content-type': 'application/json' }).end('{"error":"not ready"}');
        return;
      }
      handle(req, body, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    failNext,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

const json = (res: ServerResponse, status: number, body?: unknown) => {
  if (body === undefined) res.writeHead(status).end();
  else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
};

export interface RabbitMq extends Endpoint {
  users: Map<string, { password: string; tags: string }>;
  permissions: Map<string, { configure: string; write: string; read: string }>;
}

/** The management API of a broker whose administrator is `admin`. */
export async function startRabbitMq(admin: { user: string; password: string }): Promise<RabbitMq> {
  const users = new Map<string, { password: string; tags: string }>([
    [admin.user, { password: admin.password, tags: 'administrator' }],
  ]);
  const permissions = new Map<string, { configure: string; write: string; read: string }>();
  const vhosts = new Set(['/']);
  const endpoint = await serve(
    (req, body, res) => {
      const auth = basicUser(req);
      const caller = auth && users.get(auth.user);
      if (!auth || !caller || caller.password !== auth.password)
        return json(res, 401, { error: 'not_authorised', reason: 'Login failed' });
      if (!caller.tags.includes('administrator'))
        return json(res, 401, { error: 'not_authorised', reason: 'Not administrator user' });
      const parts = (req.url ?? '').split('?')[0]!.split('/').slice(1).map(decodeURIComponent);
      if (parts[0] !== 'api') return json(res, 404, { error: 'Object Not Found', reason: 'Not Found' });
      if (parts[1] === 'users' && parts.length === 3) {
        const name = parts[2]!;
        if (req.method === 'PUT') {
          const b = body as { password?: string; tags?: string };
          if (typeof b?.password !== 'string' || typeof b.tags !== 'string')
            return json(res, 400, { error: 'bad_request', reason: 'password and tags are required' });
          const existed = users.has(name);
          users.set(name, { password: b.password, tags: b.tags });
          return json(res, existed ? 204 : 201);
        }
        if (req.method === 'GET') {
          const u = users.get(name);
          if (!u) return json(res, 404, { error: 'Object Not Found', reason: 'Not Found' });
          // RabbitMQ's default hashing: base64(salt(4) + sha256(salt + password)).
          const salt = randomBytes(4);
          const hash = createHash('sha256')
            .update(Buffer.concat([salt, Buffer.from(u.password, 'utf8')]))
            .digest();
          return json(res, 200, {
            name,
            tags: u.tags ? u.tags.split(',') : [],
            password_hash: Buffer.concat([salt, hash]).toString('base64'),
            hashing_algorithm: 'rabbit_password_hashing_sha256',
          });
        }
        if (req.method === 'DELETE') {
          if (!users.delete(name)) return json(res, 404, { error: 'Object Not Found', reason: 'Not Found' });
          for (const key of [...permissions.keys()])
            if (key.endsWith(`\u0000${name}`)) permissions.delete(key);
          return json(res, 204);
        }
      }
      if (parts[1] === 'permissions' && parts.length === 4 && req.method === 'PUT') {
        const [vhost, name] = [parts[2]!, parts[3]!];
        if (!vhosts.has(vhost)) return json(res, 404, { error: 'Object Not Found', reason: 'Not Found' });
        if (!users.has(name)) return json(res, 400, { error: 'bad_request', reason: 'no_such_user' });
        const key = `${vhost}\u0000${name}`;
        const existed = permissions.has(key);
        permissions.set(key, body as { configure: string; write: string; read: string });
        return json(res, existed ? 204 : 201);
      }
      return json(res, 405, { error: 'Method Not Allowed' });
    },
    (req) => basicUser(req)?.user ?? '',
  );
  return Object.assign(endpoint, { users, permissions });
}

export interface OpenSearch extends Endpoint {
  roles: Map<string, unknown>;
  internalUsers: Map<string, { password: string }>;
  rolesMapping: Map<string, { users: string[] }>;
}

/** The security plugin's REST API of a domain whose master user is `master`. */
export async function startOpenSearch(master: { user: string; password: string }): Promise<OpenSearch> {
  const roles = new Map<string, unknown>();
  const internalUsers = new Map<string, { password: string }>();
  const rolesMapping = new Map<string, { users: string[] }>();
  const endpoint = await serve(
    (req, body, res) => {
      const auth = basicUser(req);
      if ((req.url ?? '').startsWith('/_plugins/_security/authinfo')) {
        const internal = auth && internalUsers.get(auth.user);
        const mapped = [...rolesMapping.entries()].filter(([, m]) => auth && m.users.includes(auth.user));
        if (!auth || !internal || internal.password !== auth.password)
          return json(res, 401, { status: 'UNAUTHORIZED', message: 'Unauthorized' });
        return json(res, 200, { user_name: auth.user, roles: mapped.map(([r]) => r) });
      }
      if (!auth || auth.user !== master.user || auth.password !== master.password)
        return json(res, 401, { status: 'UNAUTHORIZED', message: 'Unauthorized' });
      const m = /^\/_plugins\/_security\/api\/(roles|internalusers|rolesmapping)\/([^/?]+)$/.exec(
        (req.url ?? '').split('?')[0]!,
      );
      if (!m) return json(res, 404, { status: 'NOT_FOUND' });
      const [kind, name] = [m[1]!, decodeURIComponent(m[2]!)];
      const store = { roles, internalusers: internalUsers, rolesmapping: rolesMapping }[kind] as Map<
        string,
        unknown
      >;
      if (req.method === 'PUT') {
        if (kind === 'internalusers' && typeof (body as { password?: unknown })?.password !== 'string')
          return json(res, 400, { status: 'BAD_REQUEST', message: 'password is required' });
        if (kind === 'rolesmapping' && !roles.has(name))
          return json(res, 404, { status: 'NOT_FOUND', message: `The role ${name} does not exist` });
        const existed = store.has(name);
        store.set(name, body);
        return json(res, existed ? 200 : 201, {
          status: existed ? 'OK' : 'CREATED',
          message: `'${name}' ${existed ? 'updated' : 'created'}.`,
        });
      }
      if (req.method === 'DELETE') {
        if (!store.delete(name))
          return json(res, 404, { status: 'NOT_FOUND', message: `'${name}' not found.` });
        return json(res, 200, { status: 'OK', message: `'${name}' deleted.` });
      }
      return json(res, 405, { status: 'METHOD_NOT_ALLOWED' });
    },
    (req) => basicUser(req)?.user ?? '',
  );
  return Object.assign(endpoint, { roles, internalUsers, rolesMapping });
}

export interface SecretVersion {
  id: string;
  value?: string;
  stages: string[];
}

export interface SecretsManager extends Endpoint {
  /** Sets the secret's AWSCURRENT value (a new version), as an operator's put-secret-value would. */
  setCurrent(id: string, value: unknown): void;
  current(id: string): string | undefined;
  /** What RotateSecret does before calling the function: a version `token` staged AWSPENDING. */
  startRotation(id: string, token: string): void;
  versions: Map<string, SecretVersion[]>;
}

/**
 * Secrets Manager over the JSON protocol (POST /, X-Amz-Target: secretsmanager.<Operation>):
 * GetSecretValue (by stage and version), DescribeSecret, PutSecretValue and
 * UpdateSecretVersionStage, with versions and staging labels kept as Secrets Manager does.
 */
export async function startSecretsManager(secrets: Record<string, unknown>): Promise<SecretsManager> {
  const versions = new Map<string, SecretVersion[]>();
  let counter = 0;
  const setCurrent = (id: string, value: unknown) => {
    const list = versions.get(id) ?? [];
    for (const v of list) {
      v.stages = v.stages.filter((st) => st !== 'AWSCURRENT' && st !== 'AWSPREVIOUS');
      if (v.stages.length === 0 && v.value !== undefined) v.stages = [];
    }
    list.push({ id: `v${++counter}`, value: JSON.stringify(value), stages: ['AWSCURRENT'] });
    versions.set(id, list);
  };
  for (const [k, v] of Object.entries(secrets)) setCurrent(k, v);
  const endpoint = await serve(
    (req, body, res) => {
      const target = String(req.headers['x-amz-target'] ?? '');
      const b = (body ?? {}) as Record<string, string | string[] | undefined>;
      const id = String(b.SecretId ?? '');
      const reply = (status: number, value: unknown) =>
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' }).end(JSON.stringify(value));
      const notFound = () =>
        reply(400, {
          __type: 'ResourceNotFoundException',
          message: "Secrets Manager can't find the specified secret value.",
        });
      if (!/^AWS4-HMAC-SHA256 Credential=/.test(req.headers.authorization ?? ''))
        return reply(400, { __type: 'MissingAuthenticationTokenException', message: 'unsigned' });
      const list = versions.get(id);
      if (!list) return notFound();
      switch (target) {
        case 'secretsmanager.GetSecretValue': {
          const stage = String(b.VersionStage ?? 'AWSCURRENT');
          const v = list.find(
            (x) =>
              (!b.VersionId || x.id === b.VersionId) && x.stages.includes(stage) && x.value !== undefined,
          );
          if (!v) return notFound();
          return reply(200, { ARN: id, Name: id.split(':').pop(), SecretString: v.value, VersionId: v.id });
        }
        case 'secretsmanager.DescribeSecret':
          return reply(200, {
            ARN: id,
            RotationEnabled: true,
            VersionIdsToStages: Object.fromEntries(list.map((v) => [v.id, v.stages])),
          });
        case 'secretsmanager.PutSecretValue': {
          const token = String(b.ClientRequestToken);
          const existing = list.find((v) => v.id === token);
          if (existing?.value !== undefined)
            return reply(400, { __type: 'ResourceExistsException', message: 'version exists' });
          const stages = (b.VersionStages as string[] | undefined) ?? ['AWSCURRENT'];
          for (const v of list) v.stages = v.stages.filter((st) => !stages.includes(st));
          if (existing) Object.assign(existing, { value: String(b.SecretString), stages });
          else list.push({ id: token, value: String(b.SecretString), stages });
          return reply(200, { ARN: id, VersionId: token, VersionStages: stages });
        }
        case 'secretsmanager.UpdateSecretVersionStage': {
          const stage = String(b.VersionStage);
          const from = list.find((v) => v.id === b.RemoveFromVersionId);
          const to = list.find((v) => v.id === b.MoveToVersionId);
          if (!to) return notFound();
          const holder = list.find((v) => v.stages.includes(stage));
          if (holder && holder !== to && holder !== from)
            return reply(400, {
              __type: 'InvalidParameterException',
              message: 'stage held by another version',
            });
          if (from) from.stages = from.stages.filter((st) => st !== stage);
          if (stage === 'AWSCURRENT') {
            for (const v of list) v.stages = v.stages.filter((st) => st !== 'AWSPREVIOUS');
            if (from) from.stages.push('AWSPREVIOUS');
            to.stages = to.stages.filter((st) => st !== 'AWSPENDING');
          }
          to.stages.push(stage);
          return reply(200, { ARN: id });
        }
        default:
          return reply(400, { __type: 'UnknownOperationException', message: target });
      }
    },
    (req) => String(req.headers['x-amz-target'] ?? ''),
  );
  return Object.assign(endpoint, {
    versions,
    setCurrent,
    current: (id: string) => versions.get(id)?.find((v) => v.stages.includes('AWSCURRENT'))?.value,
    startRotation: (id: string, token: string) => {
      versions.get(id)!.push({ id: token, stages: ['AWSPENDING'] });
    },
  });
}

/** CloudFormation's pre-signed response URL: accepts the PUT and keeps it. */
export async function startResponseUrl(): Promise<Endpoint> {
  return serve(
    (_req, _body, res) => json(res, 200),
    () => '',
  );
}
