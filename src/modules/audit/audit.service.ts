import type { Database } from '../../platform/db/pool.ts';
import { auditSql, PRUNE_AUDIT_LOG } from './audit.sql.ts';
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

/** The audit log of admin changes: written after each successful change, read by GET /admin/audit. */
export class AuditService {
  constructor(private readonly deps: { db: Database }) {}

  record(e: AuditEntry): Promise<void> {
    return auditSql.insert(this.deps.db.primary, e);
  }

  /** Newest first; `before` (an id) pages on; filters by action text or target. */
  async list(q: {
    limit: number;
    before?: number;
    targetType?: string;
    targetId?: string;
    action?: string;
  }): Promise<AuditRecord[]> {
    const rows = await auditSql.list(this.deps.db.primary, q);
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
        deleted: await deleteInBatches(this.deps.db.primary, PRUNE_AUDIT_LOG, [days], ctx, {
          batch,
          unit: 'entries',
        }),
      }),
    });
  }
}
