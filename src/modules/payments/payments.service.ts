import type { Database } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import type { Order, OrdersService, Owner } from '../orders/orders.service.ts';
import type { PaymentProvider } from './payment-provider.ts';

export interface PaymentAttempt {
  id: string;
  orderId: string;
  provider: string;
  providerReference: string | null;
  status: 'pending' | 'succeeded' | 'failed' | 'refund_required';
  amount: number;
  currency: string;
  failureReason: string | null;
  createdAt: string;
}

interface Row {
  id: string;
  order_id: string;
  provider: string;
  provider_reference: string | null;
  status: PaymentAttempt['status'];
  amount: number;
  currency: string;
  failure_reason: string | null;
  created_at: Date;
}

const COLUMNS =
  'id, order_id, provider, provider_reference, status, amount, currency, failure_reason, created_at';
const toAttempt = (r: Row): PaymentAttempt => ({
  id: r.id,
  orderId: r.order_id,
  provider: r.provider,
  providerReference: r.provider_reference,
  status: r.status,
  amount: r.amount,
  currency: r.currency,
  failureReason: r.failure_reason,
  createdAt: r.created_at.toISOString(),
});

/** A pending attempt younger than this blocks another (a double click); older ones are stale. */
const IN_FLIGHT_SECONDS = 60;

export class PaymentsService {
  constructor(private readonly deps: { db: Database; orders: OrdersService; provider: PaymentProvider }) {}

  /** The configured provider's name (`test`, `none`, ...): shown by /health/ready. */
  get providerName(): string {
    return this.deps.provider.name;
  }

  /**
   * Charges a pending order. Every attempt is recorded (pending, then succeeded or failed with the
   * reason); a success confirms the order. The provider is called outside any transaction.
   */
  async pay(
    owner: Owner,
    orderId: string,
    paymentMethod: string,
  ): Promise<{ attempt: PaymentAttempt; order: Order }> {
    if (!this.deps.provider.enabled) {
      throw new AppError(
        'unavailable',
        'payments_unavailable',
        'Payments are not available: no payment provider is configured',
      );
    }
    const order = await this.deps.orders.getOwned(owner, orderId);
    const attempt = await withTransaction(this.deps.db.primary, async (tx) => {
      const { rows } = await tx.query<{ status: string; total_amount: number; currency: string }>(
        'SELECT status, total_amount, currency FROM orders WHERE id = $1 FOR UPDATE',
        [order.id],
      );
      const current = rows[0]!;
      if (current.status !== 'pending') {
        throw AppError.conflict('order_not_payable', `An order that is ${current.status} cannot be paid`);
      }
      const busy = await tx.query(
        `SELECT 1 FROM payment_attempts WHERE order_id = $1
         AND (status = 'succeeded' OR (status = 'pending' AND created_at > NOW() - make_interval(secs => $2)))`,
        [order.id, IN_FLIGHT_SECONDS],
      );
      if (busy.rowCount)
        throw AppError.conflict('payment_in_progress', 'A payment for this order is already in progress');
      const inserted = await tx.query<Row>(
        `INSERT INTO payment_attempts (order_id, provider, status, amount, currency)
         VALUES ($1, $2, 'pending', $3, $4) RETURNING ${COLUMNS}`,
        [order.id, this.deps.provider.name, current.total_amount, current.currency ?? 'BRL'],
      );
      return inserted.rows[0]!;
    });

    let result;
    try {
      result = await this.deps.provider.charge({
        attemptId: attempt.id,
        orderId: order.id,
        amount: attempt.amount,
        currency: attempt.currency,
        paymentMethod,
      });
    } catch (error) {
      await this.finish(attempt.id, 'failed', null, 'provider_error');
      throw AppError.unavailable('payment provider', error);
    }

    if (result.status === 'failed') {
      const failed = await this.finish(attempt.id, 'failed', result.reference ?? null, result.reason);
      return { attempt: failed, order };
    }
    // The provider took the money: record that first, on its own, so that nothing afterwards
    // (an order cancelled or expired meanwhile, a failed transition) can lose it.
    const { rows } = await this.deps.db.primary.query<Row>(
      `UPDATE payment_attempts SET status = 'succeeded', provider_reference = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
      [attempt.id, result.reference],
    );
    const succeeded = toAttempt(rows[0]!);
    try {
      const confirmed = await withTransaction(this.deps.db.primary, (tx) =>
        this.deps.orders.transitionInTx(tx, order.id, 'confirmed'),
      );
      return { attempt: succeeded, order: confirmed };
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'invalid_transition')) throw error;
      // Paid, but the order can no longer be confirmed: flag the money for a refund, tell whoever
      // listens, and say so to the payer.
      const from = (error.details as { from?: string } | undefined)?.from ?? 'unknown';
      await withTransaction(this.deps.db.primary, async (tx) => {
        await tx.query(
          `UPDATE payment_attempts SET status = 'refund_required', failure_reason = $2 WHERE id = $1`,
          [attempt.id, `order_${from}`],
        );
        await recordEvents(tx, [
          {
            type: 'payment.refund_required',
            aggregateType: 'order',
            aggregateId: order.id,
            payload: { orderId: order.id, attemptId: attempt.id, amount: attempt.amount, orderStatus: from },
          },
        ]);
      });
      throw AppError.conflict(
        'order_not_payable',
        `The order was ${from} while it was being paid: the payment will be refunded`,
        { refundRequired: true, attemptId: attempt.id },
      );
    }
  }

  /** Charges that need a person: succeeded for an order that could not be confirmed (oldest first). */
  async attention(limit: number): Promise<PaymentAttempt[]> {
    const { rows } = await this.deps.db.primary.query<Row>(
      `SELECT ${COLUMNS} FROM payment_attempts WHERE status = 'refund_required' ORDER BY created_at, id LIMIT $1`,
      [limit],
    );
    return rows.map(toAttempt);
  }

  async list(orderId: string): Promise<PaymentAttempt[]> {
    if (!isUuid(orderId)) throw AppError.notFound('Order', { orderId });
    const { rows } = await this.deps.db.primary.query<Row>(
      `SELECT ${COLUMNS} FROM payment_attempts WHERE order_id = $1 ORDER BY created_at, id`,
      [orderId],
    );
    return rows.map(toAttempt);
  }

  private async finish(
    id: string,
    status: 'failed',
    reference: string | null,
    reason: string,
  ): Promise<PaymentAttempt> {
    const { rows } = await this.deps.db.primary.query<Row>(
      `UPDATE payment_attempts SET status = $2, provider_reference = $3, failure_reason = $4 WHERE id = $1 RETURNING ${COLUMNS}`,
      [id, status, reference, reason],
    );
    return toAttempt(rows[0]!);
  }

  /** Retention: failed attempts older than `days` are deleted; successful and pending ones are kept. */
  purgeJob(days: number, batch = 5000): Job {
    return defineJob({
      name: 'purge-failed-payments',
      description: `Deletes failed payment attempts older than ${days} days; successful ones are kept`,
      run: async (ctx) => ({
        deleted: await deleteInBatches(
          this.deps.db.primary,
          `DELETE FROM payment_attempts WHERE id IN (
             SELECT id FROM payment_attempts
             WHERE status = 'failed' AND created_at < NOW() - make_interval(days => $1) LIMIT $2)`,
          [days],
          ctx,
          { batch, unit: 'attempts' },
        ),
      }),
    });
  }
}
