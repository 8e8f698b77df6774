import type pg from 'pg';
import { deleteInBatches } from '../jobs/batches.ts';
import type { JobContext } from '../jobs/job.ts';
import type { Database } from '../db/pool.ts';
import {
  SESSION_MAX_AGE_SECONDS,
  SESSION_REFRESH_AFTER_SECONDS,
  SESSION_TTL_SECONDS,
  looksLikeToken,
  newSessionToken,
  sessionIdOf,
  type Session,
  type SessionStore,
} from './session-store.ts';

interface Row {
  id: string;
  customer_id: string | null;
  created_at: Date;
  expires_at: Date;
}

const toSession = (r: Row): Session => ({
  id: r.id,
  customerId: r.customer_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
});

/** Sessions in the `sessions` table. Expired rows are purged by the worker's housekeeping job. */
export class PostgresSessionStore implements SessionStore {
  constructor(private readonly deps: { db: Database }) {}

  async create(data: { customerId: string | null }): Promise<{ token: string; session: Session }> {
    const token = newSessionToken();
    const { rows } = await this.deps.db.primary.query<Row>(
      `INSERT INTO sessions (id, customer_id, expires_at) VALUES ($1, $2, NOW() + make_interval(secs => $3))
       RETURNING id, customer_id, created_at, expires_at`,
      [sessionIdOf(token), data.customerId, SESSION_TTL_SECONDS],
    );
    return { token, session: toSession(rows[0]!) };
  }

  async get(token: string): Promise<Session | undefined> {
    if (!looksLikeToken(token)) return undefined;
    const { rows } = await this.deps.db.primary.query<Row>({
      name: 'session_get',
      // Slide the expiry back to 7 days, unless that was done less than a minute ago.
      // Never past the absolute end (created_at + 30 days).
      text: `WITH s AS (SELECT id, customer_id, created_at, expires_at FROM sessions
                        WHERE id = $1 AND expires_at > NOW() AND created_at > NOW() - make_interval(secs => $4::int)),
             u AS (UPDATE sessions t SET expires_at = LEAST(NOW() + make_interval(secs => $2::int),
                                                          s.created_at + make_interval(secs => $4::int))
                   FROM s WHERE t.id = s.id AND s.expires_at < NOW() + make_interval(secs => $2::int - $3::int)
                     AND s.expires_at < s.created_at + make_interval(secs => $4::int)
                   RETURNING t.expires_at)
             SELECT s.id, s.customer_id, s.created_at, COALESCE((SELECT expires_at FROM u), s.expires_at) AS expires_at FROM s`,
      values: [
        sessionIdOf(token),
        SESSION_TTL_SECONDS,
        SESSION_REFRESH_AFTER_SECONDS,
        SESSION_MAX_AGE_SECONDS,
      ],
    });
    return rows[0] ? toSession(rows[0]) : undefined;
  }

  async destroy(token: string): Promise<void> {
    await this.deps.db.primary.query('DELETE FROM sessions WHERE id = $1', [sessionIdOf(token)]);
  }

  async listForCustomer(customerId: string): Promise<{ createdAt: Date }[]> {
    const { rows } = await this.deps.db.primary.query<{ created_at: Date }>(
      'SELECT created_at FROM sessions WHERE customer_id = $1 AND expires_at > NOW() ORDER BY created_at',
      [customerId],
    );
    return rows.map((r) => ({ createdAt: r.created_at }));
  }

  async destroyForCustomer(customerId: string): Promise<number> {
    const { rowCount } = await this.deps.db.primary.query('DELETE FROM sessions WHERE customer_id = $1', [
      customerId,
    ]);
    return rowCount ?? 0;
  }
}

/**
 * Deletes expired sessions from the PostgreSQL store's table, a batch per statement (the
 * housekeeping job; the table is empty unless SESSION_STORE=postgres). Returns how many.
 */
export function deleteExpiredSessions(pool: pg.Pool, ctx: JobContext, batch: number): Promise<number> {
  return deleteInBatches(
    pool,
    'DELETE FROM sessions WHERE id IN (SELECT id FROM sessions WHERE expires_at < NOW() LIMIT $1)',
    [],
    ctx,
    { batch, unit: 'rows' },
  );
}
