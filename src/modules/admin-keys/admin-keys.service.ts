import { createHash, randomBytes } from 'node:crypto';
import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { adminKeysSql, type AdminKeyRow } from './admin-keys.sql.ts';

const KEY_PREFIX = 'sf_admin_';

export interface AdminKey {
  id: string;
  name: string;
  prefix: string;
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const toAdminKey = (r: AdminKeyRow): AdminKey => ({
  id: r.id,
  name: r.name,
  prefix: r.key_prefix,
  createdAt: r.created_at.toISOString(),
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

/** Keys are 256 random bits, so a plain SHA-256 is a safe, fast verifier (no need for a KDF). */
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class AdminKeysService {
  constructor(private readonly deps: { db: Database }) {}

  /** Creates a key and returns it in clear once; only its hash is stored. */
  async create(name: string): Promise<{ key: string; record: AdminKey }> {
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    const row = await adminKeysSql.insert(this.deps.db.primary, name, key.slice(0, 16), hashKey(key));
    return { key, record: toAdminKey(row) };
  }

  /** Resolves a presented key to its id, or throws 401. */
  async authenticate(presented: string | undefined): Promise<{ keyId: string; name: string }> {
    if (!presented || !presented.startsWith(KEY_PREFIX) || presented.length > 200)
      throw AppError.unauthorized();
    const found = await adminKeysSql.touchByHash(this.deps.db.primary, hashKey(presented));
    if (!found) throw AppError.unauthorized();
    return { keyId: found.id, name: found.name };
  }

  async list(): Promise<AdminKey[]> {
    return (await adminKeysSql.list(this.deps.db.primary)).map(toAdminKey);
  }

  async revoke(id: string): Promise<void> {
    if (!isUuid(id) || !(await adminKeysSql.revoke(this.deps.db.primary, id)))
      throw AppError.notFound('API key');
  }

  async hasAny(): Promise<boolean> {
    return (await adminKeysSql.countLive(this.deps.db.primary)) > 0;
  }
}
