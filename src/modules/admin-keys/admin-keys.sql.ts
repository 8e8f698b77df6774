import type { Queryable } from '../../platform/db/pool.ts';

export interface AdminKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  scopes: string[];
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

const COLUMNS = 'id, name, key_prefix, scopes, created_at, expires_at, last_used_at, revoked_at';

export const adminKeysSql = {
  async insert(
    db: Queryable,
    k: { name: string; prefix: string; hash: string; scopes: readonly string[]; expiresAt: Date | null },
  ): Promise<AdminKeyRow> {
    const { rows } = await db.query<AdminKeyRow>(
      `INSERT INTO admin_api_keys (name, key_prefix, key_hash, scopes, expires_at) VALUES ($1, $2, $3, $4, $5)
       RETURNING ${COLUMNS}`,
      [k.name, k.prefix, k.hash, k.scopes, k.expiresAt],
    );
    return rows[0]!;
  },

  /**
   * Finds a live (not revoked, not expired) key by hash and stamps its use. The stamp is written
   * at most once a minute per key: the UPDATE matches no row otherwise, so a busy key costs no
   * write per request.
   */
  async touchByHash(
    db: Queryable,
    hash: string,
  ): Promise<{ id: string; name: string; scopes: string[] } | undefined> {
    const { rows } = await db.query<{ id: string; name: string; scopes: string[] }>({
      name: 'admin_key_touch_scoped',
      text: `WITH k AS (
                 SELECT id, name, scopes FROM admin_api_keys
                 WHERE key_hash = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > NOW())
               ), t AS (
                 UPDATE admin_api_keys a SET last_used_at = NOW() FROM k
                 WHERE a.id = k.id AND (a.last_used_at IS NULL OR a.last_used_at < NOW() - INTERVAL '1 minute')
               )
               SELECT id, name, scopes FROM k`,
      values: [hash],
    });
    return rows[0];
  },

  async get(db: Queryable, id: string): Promise<AdminKeyRow | undefined> {
    const { rows } = await db.query<AdminKeyRow>(`SELECT ${COLUMNS} FROM admin_api_keys WHERE id = $1`, [id]);
    return rows[0];
  },

  async list(db: Queryable): Promise<AdminKeyRow[]> {
    const { rows } = await db.query<AdminKeyRow>(
      `SELECT ${COLUMNS} FROM admin_api_keys ORDER BY created_at, id`,
    );
    return rows;
  },

  async revoke(db: Queryable, id: string): Promise<boolean> {
    const { rowCount } = await db.query(
      'UPDATE admin_api_keys SET revoked_at = NOW() WHERE id = $1 AND revoked_at IS NULL',
      [id],
    );
    return rowCount === 1;
  },

  async countLive(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>(
      'SELECT COUNT(*) AS n FROM admin_api_keys WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > NOW())',
    );
    return rows[0]!.n;
  },
};
