import type { Queryable } from '../../platform/db/pool.ts';

/**
 * An upload no order references: its key appears in no order item's customization. Read join on
 * order_items (answered by its GIN index on customization), the uploads module's own exception
 * (docs/decisions/0005): it reads, never writes, the orders module's table.
 */
const UNREFERENCED = `NOT EXISTS (
  SELECT 1 FROM order_items i WHERE i.customization @> jsonb_build_object('uploadKey', u.key))`;

export const uploadsSql = {
  /**
   * Records an upload unless the owner's unreferenced uploads would pass the quota; the owner's
   * records are serialised by an advisory lock held to the end of the caller's transaction.
   * Returns the owner's outstanding count and bytes before this one, and whether it was recorded.
   */
  async recordWithinQuota(
    tx: Queryable,
    u: { key: string; owner: string; size: number },
    quota: { count: number; bytes: number },
  ): Promise<{ count: number; bytes: number; recorded: boolean }> {
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('upload-quota:' || $1, 0))", [u.owner]);
    const { rows } = await tx.query<{ count: number; bytes: string }>(
      `SELECT COUNT(*)::int AS count, COALESCE(SUM(size_bytes), 0)::text AS bytes
       FROM upload_records u WHERE owner = $1 AND ${UNREFERENCED}`,
      [u.owner],
    );
    const count = rows[0]!.count;
    const bytes = Number(rows[0]!.bytes);
    if (count + 1 > quota.count || bytes + u.size > quota.bytes) return { count, bytes, recorded: false };
    await tx.query('INSERT INTO upload_records (key, owner, size_bytes) VALUES ($1, $2, $3)', [
      u.key,
      u.owner,
      u.size,
    ]);
    return { count, bytes, recorded: true };
  },

  /** A batch of uploads older than `hours` that no order references. */
  async unreferencedOlderThan(db: Queryable, hours: number, limit: number): Promise<string[]> {
    const { rows } = await db.query<{ key: string }>(
      `SELECT key FROM upload_records u
       WHERE created_at < NOW() - make_interval(hours => $1) AND ${UNREFERENCED}
       ORDER BY created_at LIMIT $2`,
      [hours, limit],
    );
    return rows.map((r) => r.key);
  },

  /** Forgets records whose object is gone; only those still unreferenced (an order may have come since). */
  async forget(db: Queryable, keys: string[]): Promise<number> {
    const { rowCount } = await db.query(
      `DELETE FROM upload_records u WHERE key = ANY($1::text[]) AND ${UNREFERENCED}`,
      [keys],
    );
    return rowCount ?? 0;
  },

  /** Erasure: the records of an owner's uploads (their keys hold the file names given); the files go after the commit. */
  async forgetOwner(db: Queryable, ownerPrefix: string): Promise<void> {
    await db.query('DELETE FROM upload_records WHERE owner = $1', [ownerPrefix]);
  },
};
