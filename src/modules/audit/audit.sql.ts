/** The SQL of the audit log: the module's only table, `audit_log`. */
import type { Queryable } from '../../platform/db/pool.ts';
import type { AuditEntry } from './audit.service.ts';

export interface AuditRow {
  id: number;
  at: Date;
  actor_key_id: string | null;
  actor_name: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  status: number;
  request_id: string | null;
  details: Record<string, unknown> | null;
}

/** Deletes up to $2 entries older than $1 days (the retention job, in batches). */
export const PRUNE_AUDIT_LOG = `DELETE FROM audit_log WHERE id IN (
  SELECT id FROM audit_log WHERE at < NOW() - make_interval(days => $1) LIMIT $2)`;

export const auditSql = {
  async insert(db: Queryable, e: AuditEntry): Promise<void> {
    await db.query(
      `INSERT INTO audit_log (actor_key_id, actor_name, action, target_type, target_id, status, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.actorKeyId, e.actorName, e.action, e.targetType, e.targetId, e.status, e.requestId, e.details],
    );
  },

  /** Newest first; `before` (an id) pages on; filters by action text or target. */
  async list(
    db: Queryable,
    q: { limit: number; before?: number; targetType?: string; targetId?: string; action?: string },
  ): Promise<AuditRow[]> {
    const { rows } = await db.query<AuditRow>(
      `SELECT id, at, actor_key_id, actor_name, action, target_type, target_id, status, request_id, details
       FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR target_type = $2)
         AND ($3::text IS NULL OR target_id = $3) AND ($4::text IS NULL OR action = $4)
       ORDER BY id DESC LIMIT $5`,
      [q.before ?? null, q.targetType ?? null, q.targetId ?? null, q.action ?? null, q.limit],
    );
    return rows;
  },
};
