import type { Queryable } from '../../platform/db/pool.ts';

export interface AdminKeyRow {
  id: string;
  name: string;
  key_prefix: string;
  created_at: Date;
  last_used_at: Date | null;
  revoked_at: Date | null;
}

export const adminKeysSql = {
  async insert(db: Queryable, name: string, prefix: string, hash: string): Promise<AdminKeyRow> {
    const { rows } = await db.query<AdminKeyRow>(
      `INSERT INTO admin_api_keys (name, key_prefix, key_hash) VALUES ($1, $2, $3)
       RETURNING id, name, key_prefix, created_at, last_used_at, revoked_at`,
      [name, prefix, hash],
    );
    return rows[0]!;
  },

  /** Finds a live key by hash and stamps its use (at most once a minute, to spare writes). */
  async touchByHash(db: Queryable, hash: string): Promise<{ id: string; name: string } | undefined> {
    const { rows } = await db.query<{ id: string; name: string }>({
      name: 'admin_key_touch',
      text: `WITH k AS (
                 SELECT id, name FROM admin_api_keys WHERE key_hash = $1 AND revoked_at IS NULL
               ), t AS (
                 UPDATE admin_api_keys a SET last_used_at = NOW() FROM k
                 WHERE a.id = k.id AND (a.last_used_at IS NULL OR a.last_used_at < NOW() - INTERVAL '1 minute')
               )
               SELECT id, name FROM k`,
      values: [hash],
    });
    return rows[0];
  },

  async list(db: Queryable): Promise<AdminKeyRow[]> {
    const { rows } = await db.query<AdminKeyRow>(
      `SELECT id, name, key_prefix, created_at, last_used_at, revoked_at
       FROM admin_api_keys ORDER BY created_at, id`,
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
      'SELECT COUNT(*) AS n FROM admin_api_keys WHERE revoked_at IS NULL',
    );
    return rows[0]!.n;
  },
};
