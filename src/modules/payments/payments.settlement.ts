/**
 * Settling payment attempts: every provider answer (from a call, a webhook or reconciliation) is
 * recorded in its own transaction first, and only then does the order move. A success confirms
 * the order, or gives the money back when the order can no longer take it; a pending PIX or
 * boleto holds the order's stock until it expires (plus the time its money takes to reach us).
 * States only move forward. Split from payments.service.ts ({@link PaymentsService.apply}).
 */
import { withTransaction } from '../../platform/db/transaction.ts';
import { recordEvents, type DomainEvent } from '../../platform/events/outbox.ts';
import { AppError } from '../../platform/errors.ts';
import type { PaymentMethod, PaymentState } from './payment-provider.ts';
import { paymentsSql, type AttemptRow } from './payments.sql.ts';
import { releaseKey, type RefundsService } from './refunds.service.ts';
import type { PaymentsDeps } from './payments.model.ts';

/** A PIX paid at its last second reaches us a little later: the order waits this long after it. */
const PIX_GRACE_MS = 5 * 60_000;

export class PaymentSettlement {
  constructor(private readonly deps: PaymentsDeps & { refunds: RefundsService }) {}

  /**
   * Records what the provider says about an attempt, then acts on it: a success confirms the order
   * (or, when the order can no longer take it, gives the money back); a pending payment holds the
   * order until it expires. Idempotent: the same state twice changes nothing the second time.
   */
  async apply(attemptId: string, state: PaymentState): Promise<AttemptRow> {
    const row = await withTransaction(this.deps.db.primary, async (tx) => {
      const a = (await paymentsSql.lockAttempt(tx, attemptId))!;
      const events: DomainEvent[] = [];
      const event = (type: string, payload: Record<string, unknown>) =>
        events.push({
          type,
          aggregateType: 'order',
          aggregateId: a.order_id,
          payload: { orderId: a.order_id, attemptId: a.id, provider: a.provider, ...payload },
        });
      const reference = state.reference || a.provider_reference;
      let next = a;
      if (state.status === 'succeeded') {
        if (a.status === 'pending' || a.status === 'failed') {
          const order = (await this.deps.orders.lockForPayment(tx, a.order_id))!;
          // The order's total, or the installment plan's (interest included), computed when it began.
          const expected = {
            amount: a.installment_total ?? order.total_amount,
            currency: (order.currency ?? 'BRL').toUpperCase(),
          };
          const mismatch =
            state.amount !== expected.amount || state.currency.toUpperCase() !== expected.currency
              ? `amount_mismatch: received ${state.amount} ${state.currency}, the order is ${expected.amount} ${expected.currency}`
              : null;
          next = await paymentsSql.updateAttempt(tx, a.id, {
            status: 'succeeded',
            provider_reference: reference,
            // What was received is what can be refunded.
            amount: state.amount,
            failure_reason: null,
            attention_reason: mismatch,
          });
          event('payment.succeeded', { amount: state.amount, currency: state.currency });
          if (mismatch) event('payment.attention', { reason: mismatch });
        }
      } else if (state.status === 'failed') {
        if (a.status === 'pending' || a.status === 'failed') {
          next = await paymentsSql.updateAttempt(tx, a.id, {
            status: 'failed',
            provider_reference: reference,
            failure_reason: state.reason ?? 'failed',
          });
          if (a.status === 'pending') event('payment.failed', { reason: state.reason ?? 'failed' });
        }
      } else if (a.status === 'pending') {
        const at =
          state.nextAction && 'expiresAt' in state.nextAction ? new Date(state.nextAction.expiresAt) : null;
        // A provider that answered no expiry (or an unreadable one): the order keeps its own hold.
        const expires = at && !Number.isNaN(at.getTime()) ? at : null;
        next = await paymentsSql.updateAttempt(tx, a.id, {
          provider_reference: reference,
          next_action: state.nextAction ?? null,
          expires_at: expires,
        });
        if (expires) await this.deps.orders.holdForPayment(tx, a.order_id, this.holdUntil(a.method, expires));
      }
      await recordEvents(tx, events);
      return next;
    });
    if (row.status === 'succeeded' && !row.attention_reason && !row.confirmed_order)
      return this.confirmWith(row);
    return row;
  }

  /** How long a pending order keeps its stock for a payment that expires at `expires`. */
  private holdUntil(method: PaymentMethod, expires: Date): Date {
    const grace = method === 'boleto' ? this.deps.config.boletoClearingDays * 86_400_000 : PIX_GRACE_MS;
    return new Date(expires.getTime() + grace);
  }

  /** Confirms the order with a succeeded attempt; when it cannot be (cancelled, already paid), refunds it. */
  private async confirmWith(attempt: AttemptRow): Promise<AttemptRow> {
    try {
      return await withTransaction(this.deps.db.primary, async (tx) => {
        const actor = { type: 'provider' as const, name: attempt.provider };
        await this.deps.orders.recordHistory(tx, attempt.order_id, [
          {
            type: 'payment.succeeded',
            actor,
            data: { attemptId: attempt.id, method: attempt.method, amount: attempt.amount },
          },
        ]);
        await this.deps.orders.transitionInTx(tx, attempt.order_id, 'confirmed', actor);
        return paymentsSql.updateAttempt(tx, attempt.id, { confirmed_order: true });
      });
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'invalid_transition')) throw error;
      const from = (error.details as { from?: string } | undefined)?.from ?? 'unknown';
      // Paid, but the order is cancelled, expired, or was paid by another attempt: give it back.
      await this.deps.refunds.refundAttempt(attempt.id, {
        reason: from === 'cancelled' || from === 'refunded' ? `order_${from}` : 'duplicate_payment',
        key: releaseKey(attempt.id),
      });
      return (await paymentsSql.attemptById(this.deps.db.primary, attempt.id))!;
    }
  }
}
