/**
 * The SQL of refunds: the payment_refunds rows (read by order, key, key prefix, reference; locked,
 * inserted once per idempotency key, updated with the provider's answer; the unsent ones for the
 * retry job) and the refunded totals they keep on their attempt (recounted from the succeeded
 * refunds, the provider's reported total, what is still refundable). Split from payments.sql.ts.
 */
import type { Queryable } from '../../platform/db/pool.ts';
import { ATTEMPT_COLUMNS, type AttemptRow } from './payments.sql.ts';

export interface RefundRow {
  id: string;
  attempt_id: string;
  order_id: string;
  amount: number;
  status: 'pending' | 'succeeded' | 'failed';
  provider_reference: string | null;
  reason: string;
  idempotency_key: string;
  request_hash: string | null;
  failure_reason: string | null;
  /** The order lines (and units) a refund of lines was for; NULL: an amount. */
  items: RefundedItem[] | null;
  created_at: Date;
}

/** Units of an order line given back by a refund. */
export interface RefundedItem {
  orderItemId: string;
  quantity: number;
}

const REFUND = `id, attempt_id, order_id, amount, status, provider_reference, reason, idempotency_key, request_hash,
  failure_reason, items, created_at`;

export const refundsSql = {
  /**
   * Serialises refunds of lines of one order to the end of the caller's transaction: the units
   * already given back are counted and the new refund written under it, so two refunds of the
   * same line at once cannot both take its last unit. Taken after the attempt's row lock (the
   * order every refund path locks in), never before it.
   */
  async lockOrderLines(tx: Queryable, orderId: string): Promise<void> {
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('refund-lines:' || $1, 0))", [orderId]);
  },

  async refundsOf(db: Queryable, orderId: string): Promise<RefundRow[]> {
    const { rows } = await db.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds WHERE order_id = $1 ORDER BY created_at, id`,
      [orderId],
    );
    return rows;
  },

  async refundByKey(db: Queryable, key: string): Promise<RefundRow | undefined> {
    const { rows } = await db.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds WHERE idempotency_key = $1`,
      [key],
    );
    return rows[0];
  },

  async lockRefund(tx: Queryable, id: string): Promise<RefundRow | undefined> {
    const { rows } = await tx.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  },

  async refundByReference(db: Queryable, reference: string): Promise<RefundRow | undefined> {
    const { rows } = await db.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds WHERE provider_reference = $1`,
      [reference],
    );
    return rows[0];
  },

  /**
   * Sets an attempt's refunded amount from its refunds: the sum of the succeeded ones, or the
   * provider's reported total when larger, at most the amount paid (nothing is ever added twice).
   */
  async recountRefunded(tx: Queryable, attemptId: string): Promise<AttemptRow> {
    const { rows } = await tx.query<AttemptRow>(
      `UPDATE payment_attempts a SET refunded_amount = LEAST(a.amount, GREATEST(a.provider_refunded,
         (SELECT COALESCE(SUM(r.amount), 0) FROM payment_refunds r WHERE r.attempt_id = a.id AND r.status = 'succeeded'))),
         updated_at = NOW()
       WHERE a.id = $1 RETURNING ${ATTEMPT_COLUMNS}`,
      [attemptId],
    );
    return rows[0]!;
  },

  /** The provider reported `total` refunded for the attempt: its known total only grows. */
  async raiseProviderRefunded(tx: Queryable, attemptId: string, total: number): Promise<void> {
    await tx.query(
      'UPDATE payment_attempts SET provider_refunded = GREATEST(provider_refunded, $2) WHERE id = $1',
      [attemptId, total],
    );
  },

  /** A refund that had succeeded failed: the provider's total no longer includes it. */
  async lowerProviderRefunded(tx: Queryable, attemptId: string, amount: number): Promise<void> {
    await tx.query(
      'UPDATE payment_attempts SET provider_refunded = GREATEST(0, provider_refunded - $2) WHERE id = $1',
      [attemptId, amount],
    );
  },

  /** A refund of ours that has no provider reference yet (the call's answer is still on its way). */
  async unansweredRefund(db: Queryable, id: string): Promise<RefundRow | undefined> {
    const { rows } = await db.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds WHERE id = $1 AND provider_reference IS NULL`,
      [id],
    );
    return rows[0];
  },

  /** What is still refundable from an attempt: taken, minus refunded, minus refunds on their way. */
  async refundable(tx: Queryable, attempt: AttemptRow): Promise<number> {
    const { rows } = await tx.query<{ pending: number }>(
      `SELECT COALESCE(SUM(amount), 0)::int AS pending FROM payment_refunds WHERE attempt_id = $1 AND status = 'pending'`,
      [attempt.id],
    );
    return attempt.amount - attempt.refunded_amount - rows[0]!.pending;
  },

  async insertRefund(
    tx: Queryable,
    r: {
      attemptId: string;
      orderId: string;
      amount: number;
      reason: string;
      key: string;
      requestHash: string | null;
      items?: RefundedItem[] | null;
    },
  ): Promise<RefundRow | undefined> {
    // A concurrent request with the same key waits for the other to commit, then inserts nothing.
    const { rows } = await tx.query<RefundRow>(
      `INSERT INTO payment_refunds (attempt_id, order_id, amount, status, reason, idempotency_key, request_hash, items)
       VALUES ($1, $2, $3, 'pending', $4, $5, $6, $7) ON CONFLICT (idempotency_key) DO NOTHING RETURNING ${REFUND}`,
      [
        r.attemptId,
        r.orderId,
        r.amount,
        r.reason,
        r.key,
        r.requestHash,
        r.items ? JSON.stringify(r.items) : null,
      ],
    );
    return rows[0];
  },

  /**
   * The refunds made under one admin Idempotency-Key: their keys are `prefix` and an attempt id,
   * exactly (the key `a` does not find those of the key `a:b`, whose keys also start `admin:a:`).
   */
  async refundsByKeyPrefix(db: Queryable, prefix: string): Promise<RefundRow[]> {
    const { rows } = await db.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds
        WHERE starts_with(idempotency_key, $1)
          AND substr(idempotency_key, length($1) + 1) ~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
        ORDER BY created_at, id`,
      [prefix],
    );
    return rows;
  },

  /** Refunds never answered by the provider (the call failed), older than `minutes`. */
  async unsentRefunds(db: Queryable, minutes: number, limit: number): Promise<RefundRow[]> {
    const { rows } = await db.query<RefundRow>(
      `SELECT ${REFUND} FROM payment_refunds
        WHERE status = 'pending' AND provider_reference IS NULL AND created_at < NOW() - make_interval(mins => $1)
        ORDER BY created_at, id LIMIT $2`,
      [minutes, limit],
    );
    return rows;
  },

  async updateRefund(
    tx: Queryable,
    id: string,
    status: RefundRow['status'],
    reference: string | null,
    failure: string | null,
  ): Promise<RefundRow> {
    const { rows } = await tx.query<RefundRow>(
      `UPDATE payment_refunds SET status = $2, provider_reference = COALESCE($3, provider_reference),
         failure_reason = $4, updated_at = NOW() WHERE id = $1 RETURNING ${REFUND}`,
      [id, status, reference || null, failure],
    );
    return rows[0]!;
  },
};
