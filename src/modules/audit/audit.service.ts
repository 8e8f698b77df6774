import type { Database } from '../../platform/db/pool.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';

export interface AuditEntry {
  actorKeyId: string | null;
  actorName: string;
  /** `METHOD /route/:pattern`, e.g. `DELETE /admin/products/:id`. */
  action: string;
  targetType: string | null;
  targetId: string | null;
  status: number;
  requestId: string | null;
  /** What a route chose to record; never personal values. */
  details: Record<string, unknown> | null;
}

export interface AuditRecord extends AuditEntry {
  id: number;
  at: string;
}

interface AuditRow {
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

/** The audit log of admin changes: written after each successful change, read by GET /admin/audit. */
export class AuditService {
  constructor(private readonly deps: { db: Database }) {}

  async record(e: AuditEntry): Promise<void> {
    await this.deps.db.primary.query(
      `INSERT INTO audit_log (actor_key_id, actor_name, action, target_type, target_id, status, request_id, details)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [e.actorKeyId, e.actorName, e.action, e.targetType, e.targetId, e.status, e.requestId, e.details],
    );
  }

  /** Newest first; `before` (an id) pages on; filters by action text or target. */
  async list(q: {
    limit: number;
    before?: number;
    targetType?: string;
    targetId?: string;
    action?: string;
  }): Promise<AuditRecord[]> {
    const { rows } = await this.deps.db.primary.query<AuditRow>(
      `SELECT id, at, actor_key_id, actor_name, action, target_type, target_id, status, request_id, details
       FROM audit_log
       WHERE ($1::bigint IS NULL OR id < $1) AND ($2::text IS NULL OR target_type = $2)
         AND ($3::text IS NULL OR target_id = $3) AND ($4::text IS NULL OR action = $4)
       ORDER BY id DESC LIMIT $5`,
      [q.before ?? null, q.targetType ?? null, q.targetId ?? null, q.action ?? null, q.limit],
    );
    return rows.map((r) => ({
      id: r.id,
      at: r.at.toISOString(),
      actorKeyId: r.actor_key_id,
      actorName: r.actor_name,
      action: r.action,
      targetType: r.target_type,
      targetId: r.target_id,
      status: r.status,
      requestId: r.request_id,
      details: r.details,
    }));
  }

  /** Retention: entries older than `days` are deleted. */
  pruneJob(days: number, batch = 5000): Job {
    return defineJob({
      name: 'prune-audit-log',
      schedule: '55 3 * * *',
      description: `Deletes audit log entries older than ${days} days`,
      run: async (ctx) => ({
        deleted: await deleteInBatches(
          this.deps.db.primary,
          `DELETE FROM audit_log WHERE id IN (
             SELECT id FROM audit_log WHERE at < NOW() - make_interval(days => $1) LIMIT $2)`,
          [days],
          ctx,
          { batch, unit: 'entries' },
        ),
      }),
    });
  }
}
