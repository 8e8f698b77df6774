/**
 * The SQL of the payments module's attempts and received provider events: opening an attempt (busy,
 * insert), locking and updating it, the boleto holders' locks and counts, the reads of the order
 * and admin pages, the reconciliation cursor, archival, erasure and export. The refunds' SQL (and
 * the refunded totals it keeps on attempts) is in refunds.sql.ts.
 */
import type { Queryable } from '../../platform/db/pool.ts';
import type { NextAction, PaymentMethod } from './payment-provider.ts';

export type AttemptStatus = 'pending' | 'succeeded' | 'failed' | 'refund_required' | 'refunded';

export interface AttemptRow {
  id: string;
  order_id: string;
  provider: string;
  provider_reference: string | null;
  status: AttemptStatus;
  method: PaymentMethod;
  amount: number;
  refunded_amount: number;
  currency: string;
  failure_reason: string | null;
  attention_reason: string | null;
  next_action: NextAction | null;
  expires_at: Date | null;
  confirmed_order: boolean;
  /** The installment plan of a card payment (parcelamento), or NULL. */
  installments: number | null;
  installment_amount: number | null;
  installment_total: number | null;
  installment_interest_free: boolean | null;
  created_at: Date;
}

/** The columns of an attempt as {@link AttemptRow} reads them (refunds.sql.ts returns them too). */
export const ATTEMPT_COLUMNS = `id, order_id, provider, provider_reference, status, method, amount, refunded_amount, currency,
  failure_reason, attention_reason, next_action, expires_at, confirmed_order, installments, installment_amount,
  installment_total, installment_interest_free, created_at`;

/**
 * A settled payment of order $1, or a card payment of it still in flight (a double click), given
 * the in-flight seconds' parameter position: another payment is refused then.
 */
const busySql = (secs: number) => `SELECT 1 FROM payment_attempts WHERE order_id = $1
  AND (status = 'succeeded'
       OR (status = 'pending' AND method = 'card' AND created_at > NOW() - make_interval(secs => $${secs})))`;

/** Failed attempts older than $1 days, a batch of $2 (the purge job). */
export const PURGE_FAILED_ATTEMPTS_SQL = `DELETE FROM payment_attempts WHERE id IN (
  SELECT id FROM payment_attempts
  WHERE status = 'failed' AND created_at < NOW() - make_interval(days => $1) LIMIT $2)`;

/** Processed webhook events received more than $1 days ago, a batch of $2 (the purge job). */
export const PURGE_PROCESSED_EVENTS_SQL = `DELETE FROM payment_events WHERE (provider, event_id) IN (
  SELECT provider, event_id FROM payment_events
  WHERE processed_at IS NOT NULL AND received_at < NOW() - make_interval(days => $1) LIMIT $2)`;

/** Attempts whose money the store holds (a refund may still go out of them). */
export const HOLDING_MONEY: AttemptStatus[] = ['succeeded', 'refund_required'];

export const paymentsSql = {
  /**
   * The attempts and refunds of these orders as archival copies them (every column; without
   * next_action: a final order's voucher or PIX code is of no use, and a boleto's names the payer).
   */
  async archiveRowsOf(
    db: Queryable,
    orderIds: string[],
  ): Promise<Map<string, { payments: Record<string, unknown>[]; refunds: Record<string, unknown>[] }>> {
    const { rows } = await db.query<{
      order_id: string;
      payments: Record<string, unknown>[];
      refunds: Record<string, unknown>[];
    }>(
      `SELECT o.id AS order_id,
              COALESCE((SELECT jsonb_agg(to_jsonb(p) - 'next_action' ORDER BY p.created_at, p.id)
                 FROM payment_attempts p WHERE p.order_id = o.id), '[]'::jsonb) AS payments,
              COALESCE((SELECT jsonb_agg(to_jsonb(r) ORDER BY r.created_at, r.id)
                 FROM payment_refunds r WHERE r.order_id = o.id), '[]'::jsonb) AS refunds
       FROM unnest($1::uuid[]) AS o(id)`,
      [orderIds],
    );
    return new Map(rows.map((r) => [r.order_id, { payments: r.payments, refunds: r.refunds }]));
  },

  /** Puts archived attempts and refunds back (rows already there are kept). */
  async restoreArchived(
    db: Queryable,
    payments: Record<string, unknown>[],
    refunds: Record<string, unknown>[],
  ): Promise<void> {
    for (const p of payments)
      await db.query(
        // Attempts archived before the method and refund columns existed get their defaults.
        `INSERT INTO payment_attempts SELECT * FROM jsonb_populate_record(NULL::payment_attempts,
           '{"method": "card", "refunded_amount": 0}'::jsonb || $1::jsonb)
         ON CONFLICT (id) DO NOTHING`,
        [p],
      );
    for (const r of refunds)
      await db.query(
        `INSERT INTO payment_refunds SELECT * FROM jsonb_populate_record(NULL::payment_refunds, $1::jsonb)
         ON CONFLICT (id) DO NOTHING`,
        [r],
      );
  },

  /** A settled payment, or a card payment still in flight (a double click): another is refused. */
  async busy(tx: Queryable, orderId: string, inFlightSeconds: number): Promise<boolean> {
    const { rowCount } = await tx.query(busySql(2), [orderId, inFlightSeconds]);
    return (rowCount ?? 0) > 0;
  },

  /**
   * A new pending attempt of an order the caller locked, unless the order is busy (see
   * {@link busy}) or has `max` attempts already: undefined then (the caller tells which).
   */
  async insertAttempt(
    tx: Queryable,
    a: {
      orderId: string;
      provider: string;
      method: PaymentMethod;
      amount: number;
      currency: string;
      /** A boleto's holders (see boletosHeld). */
      payerKey: string | null;
      holdAddress: string | null;
      /** A card payment's installment plan (its total is `amount`). */
      plan: { count: number; amount: number; interestFree: boolean } | null;
    },
    limits: { inFlightSeconds: number; max: number },
  ): Promise<AttemptRow | undefined> {
    const { rows } = await tx.query<AttemptRow>(
      `INSERT INTO payment_attempts (order_id, provider, status, method, amount, currency, payer_key, hold_address,
         installments, installment_amount, installment_total, installment_interest_free)
       SELECT $1, $2, 'pending', $3, $4, $5, $8, $9, $10, $11, $13, $12
       WHERE NOT EXISTS (${busySql(6)})
         AND (SELECT COUNT(*) FROM payment_attempts WHERE order_id = $1) < $7
       RETURNING ${ATTEMPT_COLUMNS}`,
      [
        a.orderId,
        a.provider,
        a.method,
        a.amount,
        a.currency,
        limits.inFlightSeconds,
        limits.max,
        a.payerKey,
        a.holdAddress,
        a.plan?.count ?? null,
        a.plan?.amount ?? null,
        a.plan?.interestFree ?? null,
        a.plan ? a.amount : null,
      ],
    );
    return rows[0];
  },

  /**
   * Takes the boleto holders' advisory locks for the rest of the transaction (order_hold_lock: at
   * most 100 ms each, else SFH03): the payer document, then the address (a fixed order).
   * Counting them is the next statement's (a fresh snapshot).
   */
  async lockBoletoHolders(tx: Queryable, payerKey: string, address: string | null): Promise<void> {
    await tx.query(
      `SELECT order_hold_lock('boleto-hold:document:' || $1, 100),
              CASE WHEN $2::text IS NOT NULL THEN order_hold_lock('boleto-hold:address:' || $2, 100) END`,
      [payerKey, address],
    );
  },

  /**
   * The pending boletos (orders and their units) a payer document and an address hold, other than
   * order $orderId's, over orders still pending whose hold has not ended; and order $orderId's units.
   */
  async boletosHeld(
    tx: Queryable,
    h: { payerKey: string; address: string | null; orderId: string; ttlMinutes: number },
  ): Promise<{
    document: { orders: number; units: number };
    address: { orders: number; units: number };
    units: number;
  }> {
    const { rows } = await tx.query<{
      holder: 'document' | 'address' | 'order';
      orders: number;
      units: number;
    }>(
      `WITH held AS (
         SELECT DISTINCT o.id, a.payer_key = $1 AS by_document, a.hold_address = $2 AS by_address
           FROM payment_attempts a JOIN orders o ON o.id = a.order_id
          WHERE a.status = 'pending' AND a.method = 'boleto' AND (a.payer_key = $1 OR a.hold_address = $2)
            AND o.id <> $3 AND o.status = 'pending'
            AND COALESCE(o.payment_expires_at, o.created_at + make_interval(mins => $4)) > NOW()
       ), units AS (
         SELECT h.*, (SELECT COALESCE(SUM(quantity), 0) FROM order_items WHERE order_id = h.id)::int AS n FROM held h
       )
       SELECT 'document' AS holder, COUNT(DISTINCT id)::int AS orders,
              COALESCE(SUM(n), 0)::int AS units
         FROM units WHERE by_document
       UNION ALL
       SELECT 'address', COUNT(DISTINCT id)::int, COALESCE(SUM(n), 0)::int FROM units WHERE by_address
       UNION ALL
       SELECT 'order', 1, COALESCE(SUM(quantity), 0)::int FROM order_items WHERE order_id = $3`,
      [h.payerKey, h.address, h.orderId, h.ttlMinutes],
    );
    const of = (holder: string) => rows.find((r) => r.holder === holder) ?? { orders: 0, units: 0 };
    return {
      document: { orders: of('document').orders, units: of('document').units },
      address: { orders: of('address').orders, units: of('address').units },
      units: of('order').units,
    };
  },

  async lockAttempt(tx: Queryable, id: string): Promise<AttemptRow | undefined> {
    const { rows } = await tx.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE id = $1 FOR UPDATE`,
      [id],
    );
    return rows[0];
  },

  async attemptByReference(
    db: Queryable,
    provider: string,
    reference: string,
  ): Promise<AttemptRow | undefined> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE provider = $1 AND provider_reference = $2`,
      [provider, reference],
    );
    return rows[0];
  },

  async attemptById(db: Queryable, id: string): Promise<AttemptRow | undefined> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE id = $1`,
      [id],
    );
    return rows[0];
  },

  /** Sets the given columns of an attempt (a fixed list of column names; values as parameters). */
  async updateAttempt(
    tx: Queryable,
    id: string,
    set: Partial<
      Pick<
        AttemptRow,
        | 'status'
        | 'provider_reference'
        | 'amount'
        | 'refunded_amount'
        | 'failure_reason'
        | 'attention_reason'
        | 'next_action'
        | 'expires_at'
        | 'confirmed_order'
      >
    >,
  ): Promise<AttemptRow> {
    const columns = Object.keys(set) as (keyof typeof set)[];
    // Column names come from the type above, never from input; every value is a parameter.
    const assignments = columns.map((c, i) => `${c} = $${i + 2}`).join(', ');
    // A boleto's holder keys only count while it is pending: an attempt that leaves pending drops them.
    const holders = set.status && set.status !== 'pending' ? ', payer_key = NULL, hold_address = NULL' : '';
    const values = columns.map((c) => (c === 'next_action' && set[c] ? JSON.stringify(set[c]) : set[c]));
    const { rows } = await tx.query<AttemptRow>(
      `UPDATE payment_attempts SET ${assignments}${holders}, updated_at = NOW() WHERE id = $1 RETURNING ${ATTEMPT_COLUMNS}`,
      [id, ...values],
    );
    return rows[0]!;
  },

  async attemptsOf(db: Queryable, orderId: string, forUpdate = false): Promise<AttemptRow[]> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE order_id = $1 ORDER BY created_at, id${forUpdate ? ' FOR UPDATE' : ''}`,
      [orderId],
    );
    return rows;
  },

  /** Records a webhook event; false when it was already received (processed or not: see processed()). */
  async receiveEvent(db: Queryable, provider: string, id: string, type: string): Promise<boolean> {
    const { rowCount } = await db.query(
      `INSERT INTO payment_events (provider, event_id, type) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [provider, id, type],
    );
    return (rowCount ?? 0) > 0;
  },

  async eventProcessed(db: Queryable, provider: string, id: string): Promise<boolean> {
    const { rows } = await db.query<{ processed_at: Date | null }>(
      'SELECT processed_at FROM payment_events WHERE provider = $1 AND event_id = $2',
      [provider, id],
    );
    return rows[0]?.processed_at != null;
  },

  async markProcessed(db: Queryable, provider: string, id: string): Promise<void> {
    await db.query('UPDATE payment_events SET processed_at = NOW() WHERE provider = $1 AND event_id = $2', [
      provider,
      id,
    ]);
  },

  /** Pending attempts of a provider older than `minutes`, after a (created_at, id) cursor. */
  async stalePending(
    db: Queryable,
    provider: string,
    minutes: number,
    after: { createdAt: Date; id: string } | undefined,
    limit: number,
  ): Promise<AttemptRow[]> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts
        WHERE status = 'pending' AND provider = $1 AND created_at < NOW() - make_interval(mins => $2)
          AND ($3::timestamptz IS NULL OR (created_at, id) > ($3::timestamptz, $4::uuid))
        ORDER BY created_at, id LIMIT $5`,
      [provider, minutes, after?.createdAt ?? null, after?.id ?? null, limit],
    );
    return rows;
  },

  /**
   * The attempt that tells how an order is paid: the one holding (or having held) its money, else
   * the latest pending one, else the latest.
   */
  async paymentOf(db: Queryable, orderId: string): Promise<AttemptRow | undefined> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts WHERE order_id = $1
        ORDER BY (status IN ('succeeded', 'refund_required', 'refunded')) DESC, (status = 'pending') DESC,
                 created_at DESC, id DESC
        LIMIT 1`,
      [orderId],
    );
    return rows[0];
  },

  /** Marks a received payment for a person (a chargeback, a dispute): false when it already was, for this reason. */
  async markAttention(tx: Queryable, id: string, reason: string): Promise<boolean> {
    const { rowCount } = await tx.query(
      `UPDATE payment_attempts SET attention_reason = $2, updated_at = NOW()
        WHERE id = $1 AND attention_reason IS DISTINCT FROM $2`,
      [id, reason],
    );
    return (rowCount ?? 0) > 0;
  },

  async attention(db: Queryable, limit: number): Promise<AttemptRow[]> {
    const { rows } = await db.query<AttemptRow>(
      `SELECT ${ATTEMPT_COLUMNS} FROM payment_attempts
        WHERE status = 'refund_required' OR attention_reason IS NOT NULL
        ORDER BY created_at, id LIMIT $1`,
      [limit],
    );
    return rows;
  },

  /** Erasure: forgets what the orders' attempts kept for the payer (PIX codes, boleto vouchers with name, CPF, address). */
  async forgetPayerData(db: Queryable, orderIds: string[]): Promise<void> {
    await db.query(
      'UPDATE payment_attempts SET next_action = NULL WHERE order_id = ANY($1::uuid[]) AND next_action IS NOT NULL',
      [orderIds],
    );
  },

  /** The attempts of these orders as the customer's export shows them, by order. */
  async exportOf(db: Queryable, orderIds: string[]): Promise<Map<string, Record<string, unknown>[]>> {
    const { rows } = await db.query<{ order_id: string; p: Record<string, unknown> }>(
      `SELECT order_id, jsonb_build_object('id', id, 'provider', provider, 'status', status, 'amount', amount,
                'currency', currency, 'createdAt', created_at) AS p
       FROM payment_attempts WHERE order_id = ANY($1::uuid[]) ORDER BY created_at, id`,
      [orderIds],
    );
    const byOrder = new Map<string, Record<string, unknown>[]>();
    for (const r of rows) byOrder.set(r.order_id, [...(byOrder.get(r.order_id) ?? []), r.p]);
    return byOrder;
  },
};
