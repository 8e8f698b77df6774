import { createHash, randomBytes } from 'node:crypto';
import { coversScopes, forbidden, type AdminKeyScope } from '../../http/admin-scopes.ts';
import type { Database } from '../../platform/db/pool.ts';
import { PG, pgCode } from '../../platform/db/pg-errors.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { adminKeysSql, type AdminKeyRow } from './admin-keys.sql.ts';

const KEY_PREFIX = 'sf_admin_';

export interface AdminKey {
  id: string;
  name: string;
  prefix: string;
  scopes: AdminKeyScope[];
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

export interface NewAdminKey {
  name: string;
  scopes: readonly AdminKeyScope[];
  expiresAt?: Date | null;
}

const toAdminKey = (r: AdminKeyRow): AdminKey => ({
  id: r.id,
  name: r.name,
  prefix: r.key_prefix,
  scopes: r.scopes as AdminKeyScope[],
  createdAt: r.created_at.toISOString(),
  expiresAt: r.expires_at?.toISOString() ?? null,
  lastUsedAt: r.last_used_at?.toISOString() ?? null,
  revokedAt: r.revoked_at?.toISOString() ?? null,
});

/** Keys are 256 random bits, so a plain SHA-256 is a safe, fast verifier (no need for a KDF). */
function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export class AdminKeysService {
  constructor(private readonly deps: { db: Database }) {}

  /**
   * Creates a key and returns it in clear once; only its hash is stored. `grantor`: the scopes of
   * the key asking (absent: the CLI, which may grant anything); a key grants only what it holds.
   */
  async create(input: NewAdminKey, grantor?: readonly string[]): Promise<{ key: string; record: AdminKey }> {
    const scopes = [...new Set(input.scopes)].sort();
    if (scopes.length === 0) throw AppError.invalid('A key needs at least one scope', [{ field: 'scopes' }]);
    if (grantor && !coversScopes(grantor, scopes))
      throw forbidden('A key can grant only scopes it holds', { scopes });
    if (input.expiresAt && input.expiresAt.getTime() <= Date.now())
      throw AppError.invalid('expiresAt must be in the future', [{ field: 'expiresAt' }]);
    const key = KEY_PREFIX + randomBytes(32).toString('base64url');
    try {
      const row = await adminKeysSql.insert(this.deps.db.primary, {
        name: input.name,
        prefix: key.slice(0, 16),
        hash: hashKey(key),
        scopes,
        expiresAt: input.expiresAt ?? null,
      });
      return { key, record: toAdminKey(row) };
    } catch (error) {
      if (pgCode(error) === PG.UNIQUE_VIOLATION)
        throw AppError.conflict('duplicate', 'A live key already has this name', [{ field: 'name' }]);
      throw error;
    }
  }

  /** Resolves a presented key to its id, name and scopes, or throws 401 (unknown, revoked or expired). */
  async authenticate(
    presented: string | undefined,
  ): Promise<{ keyId: string; name: string; scopes: AdminKeyScope[] }> {
    if (!presented || !presented.startsWith(KEY_PREFIX) || presented.length > 200)
      throw AppError.unauthorized();
    const found = await adminKeysSql.touchByHash(this.deps.db.primary, hashKey(presented));
    if (!found) throw AppError.unauthorized();
    return { keyId: found.id, name: found.name, scopes: found.scopes as AdminKeyScope[] };
  }

  async get(id: string): Promise<AdminKey> {
    const row = isUuid(id) ? await adminKeysSql.get(this.deps.db.primary, id) : undefined;
    if (!row) throw AppError.notFound('API key');
    return toAdminKey(row);
  }

  async list(): Promise<AdminKey[]> {
    return (await adminKeysSql.list(this.deps.db.primary)).map(toAdminKey);
  }

  /** Revokes a key; `revoker`: the scopes of the key asking (it may revoke only keys it could have granted). */
  async revoke(id: string, revoker?: readonly string[]): Promise<void> {
    const target = await this.get(id);
    if (revoker && !coversScopes(revoker, target.scopes))
      throw forbidden('A key can revoke only keys whose scopes it holds', { scopes: target.scopes });
    if (!(await adminKeysSql.revoke(this.deps.db.primary, id))) throw AppError.notFound('API key');
  }

  async hasAny(): Promise<boolean> {
    return (await adminKeysSql.countLive(this.deps.db.primary)) > 0;
  }
}
