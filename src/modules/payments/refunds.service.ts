/**
 * Refunds: money given back through the provider, once per key; the outcome of each refund (from
 * the call or a webhook) applied once; an order whose money all went back becomes `refunded`.
 */
import { createHash } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { AppError } from '../../platform/errors.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import { ProviderUnavailableError, type PaymentProvider, type RefundState } from './payment-provider.ts';
import { unitsAmount } from '../../platform/money.ts';
import type { Order } from '../orders/orders.service.ts';
import { HOLDING_MONEY, paymentsSql, type AttemptRow } from './payments.sql.ts';
import { refundsSql, type RefundedItem, type RefundRow } from './refunds.sql.ts';

export interface PaymentRefund {
  id: string;
  amount: number;
  status: RefundRow['status'];
  reason: string;
  providerReference: string | null;
  failureReason: string | null;
  /** The order lines (and units) it gave back, when it was a refund of lines. */
  items: RefundedItem[] | null;
  createdAt: string;
}

export const toRefund = (r: RefundRow): PaymentRefund => ({
  id: r.id,
  amount: r.amount,
  status: r.status,
  reason: r.reason,
  providerReference: r.provider_reference,
  failureReason: r.failure_reason,
  items: r.items ?? null,
  createdAt: r.created_at.toISOString(),
});

/** Lines priced for a refund were refunded by another request meanwhile: price them again. */
class StaleLines extends Error {
  readonly conflict = AppError.conflict(
    'refund_conflict',
    'Other refunds of these lines are being made at the same time; ask again',
  );
}

/** The order refund statuses move in: a lower rank never replaces a higher one. */
const REFUND_RANK: Record<RefundRow['status'], number> = { pending: 0, succeeded: 1, failed: 2 };

/** The refund that gives back whatever an attempt holds when its order cannot keep it. */
export const releaseKey = (attemptId: string) => `release:${attemptId}`;

export class RefundsService {
  constructor(
    private readonly deps: {
      db: Database;
      orders: OrdersService;
      provider: PaymentProvider;
    },
  ) {}

  /** Refunds the provider never answered (it was away) are asked again, with the same key. */
  async resendRefunds(minutes: number): Promise<number> {
    let sent = 0;
    for (const r of await refundsSql.unsentRefunds(this.deps.db.primary, minutes, 100)) {
      try {
        await this.refundAttempt(r.attempt_id, { reason: r.reason, key: r.idempotency_key });
        sent++;
      } catch (error) {
        if (!(error instanceof AppError && error.kind === 'unavailable')) throw error;
      }
    }
    return sent;
  }

  /**
   * Refunds `amount` (default: all that is left) of an attempt through the provider, once per
   * `key`. A refund the provider refuses, or that cannot be asked, flags the attempt
   * `refund_required` (listed by PaymentsService.attention); asked again with the same key, it is retried.
   */
  async refundAttempt(
    attemptId: string,
    r: {
      amount?: number;
      reason: string;
      key: string;
      requestHash?: string;
      items?: RefundedItem[];
      /** Run in the refund's transaction after the attempt is locked (the lines' recount). */
      check?: (tx: Tx) => Promise<void>;
    },
  ): Promise<RefundRow | undefined> {
    const refund = await withTransaction(this.deps.db.primary, async (tx) => {
      const existing = await refundsSql.refundByKey(tx, r.key);
      if (existing) {
        if (r.requestHash && existing.request_hash !== r.requestHash)
          throw new AppError(
            'unprocessable',
            'idempotency_key_reused',
            'This Idempotency-Key was used for another refund',
          );
        return existing;
      }
      const a = (await paymentsSql.lockAttempt(tx, attemptId))!;
      await r.check?.(tx);
      const left =
        HOLDING_MONEY.includes(a.status) && a.provider_reference ? await refundsSql.refundable(tx, a) : 0;
      const amount = r.amount ?? left;
      if (amount <= 0 && r.amount === undefined) return undefined; // nothing left to give back
      if (amount > left)
        throw AppError.conflict(
          'refund_exceeds_payment',
          `At most ${left} can be refunded from this payment`,
          {
            refundable: left,
          },
        );
      return (
        (await refundsSql.insertRefund(tx, {
          attemptId,
          orderId: a.order_id,
          amount,
          reason: r.reason,
          key: r.key,
          requestHash: r.requestHash ?? null,
          items: r.items ?? null,
        })) ?? (await refundsSql.refundByKey(tx, r.key))
      );
    });
    if (!refund || refund.status !== 'pending' || refund.provider_reference) return refund;
    const attempt = (await paymentsSql.attemptById(this.deps.db.primary, attemptId))!;
    let state: RefundState;
    try {
      state = await this.deps.provider.refund({
        reference: attempt.provider_reference!,
        amount: refund.amount,
        idempotencyKey: refund.idempotency_key,
        reason: refund.reason,
        refundId: refund.id,
      });
    } catch (error) {
      if (!(error instanceof ProviderUnavailableError)) throw error;
      await this.flag(attemptId, `refund_not_sent: ${refund.reason}`);
      throw AppError.unavailable('payment provider', error);
    }
    return withTransaction(this.deps.db.primary, (tx) => this.settleRefund(tx, refund.id, state));
  }

  /** Marks an attempt as money a person must give back, and says so. */
  private async flag(attemptId: string, reason: string): Promise<void> {
    await withTransaction(this.deps.db.primary, async (tx) => {
      const a = (await paymentsSql.lockAttempt(tx, attemptId))!;
      if (a.status !== 'succeeded' && a.status !== 'refund_required') return;
      await paymentsSql.updateAttempt(tx, a.id, { status: 'refund_required', failure_reason: reason });
      if (a.status === 'succeeded')
        await recordEvents(tx, [
          {
            type: 'payment.refund_required',
            aggregateType: 'order',
            aggregateId: a.order_id,
            payload: { orderId: a.order_id, attemptId: a.id, amount: a.amount - a.refunded_amount, reason },
          },
        ]);
    });
  }

  /**
   * Applies a refund's outcome (from the call or a webhook), once. Statuses only move forward
   * (`pending` -> `succeeded` -> `failed`; `pending` -> `failed`): a late `pending` never undoes a
   * `succeeded`, and a `failed` refund stays failed. The attempt's refunded amount is then counted
   * again from its refunds (see {@link recount}), never added to.
   */
  async settleRefund(tx: Tx, refundId: string, state: RefundState): Promise<RefundRow> {
    const refund = (await refundsSql.lockRefund(tx, refundId))!;
    if (REFUND_RANK[state.status] <= REFUND_RANK[refund.status]) {
      return state.reference && !refund.provider_reference
        ? refundsSql.updateRefund(tx, refund.id, refund.status, state.reference, refund.failure_reason)
        : refund;
    }
    const a = (await paymentsSql.lockAttempt(tx, refund.attempt_id))!;
    if (state.status === 'succeeded') {
      const updated = await refundsSql.updateRefund(tx, refund.id, 'succeeded', state.reference, null);
      await this.recount(tx, a, refund.reason);
      return updated;
    }
    // Failed: if it had counted as paid back, it no longer does (nor in the provider's total).
    const reason = `refund_failed: ${state.reason ?? 'failed'}`;
    const updated = await refundsSql.updateRefund(
      tx,
      refund.id,
      'failed',
      state.reference,
      state.reason ?? 'failed',
    );
    if (refund.status === 'succeeded') await refundsSql.lowerProviderRefunded(tx, a.id, refund.amount);
    await refundsSql.recountRefunded(tx, a.id);
    await paymentsSql.updateAttempt(tx, a.id, { status: 'refund_required', failure_reason: reason });
    await recordEvents(tx, [
      {
        type: 'payment.refund_required',
        aggregateType: 'order',
        aggregateId: a.order_id,
        payload: { orderId: a.order_id, attemptId: a.id, refundId: refund.id, amount: refund.amount, reason },
      },
    ]);
    return updated;
  }

  /**
   * Counts an attempt's refunded amount again: the sum of its succeeded refunds, or the provider's
   * reported total when that is larger (refunds made outside ShopFlow), never more than was paid.
   * When it grew: `payment.refunded` for the difference, `refunded` once all of it is back, and
   * the order follows ({@link settleOrder}).
   */
  private async recount(tx: Tx, before: AttemptRow, reason: string): Promise<void> {
    const after = await refundsSql.recountRefunded(tx, before.id);
    if (after.refunded_amount <= before.refunded_amount) return;
    const whole = after.refunded_amount >= after.amount;
    if (whole && HOLDING_MONEY.includes(after.status))
      await paymentsSql.updateAttempt(tx, after.id, { status: 'refunded' });
    await this.deps.orders.recordHistory(tx, after.order_id, [
      {
        type: 'payment.refunded',
        actor: { type: 'provider', name: after.provider },
        data: { attemptId: after.id, amount: after.refunded_amount - before.refunded_amount, reason, whole },
      },
    ]);
    await recordEvents(tx, [
      {
        type: 'payment.refunded',
        aggregateType: 'order',
        aggregateId: after.order_id,
        payload: {
          orderId: after.order_id,
          attemptId: after.id,
          amount: after.refunded_amount - before.refunded_amount,
          reason,
          whole,
        },
      },
    ]);
    await this.settleOrder(tx, after.order_id);
  }

  /**
   * An order whose money all went back becomes `refunded` (a confirmed one is cancelled first, so
   * its stock returns). An order that still holds money from some attempt stays as it is.
   */
  private async settleOrder(tx: Tx, orderId: string): Promise<void> {
    const attempts = await paymentsSql.attemptsOf(tx, orderId);
    if (!attempts.some((x) => x.status === 'refunded')) return;
    if (attempts.some((x) => HOLDING_MONEY.includes(x.status) && x.refunded_amount < x.amount)) return;
    const order = (await this.deps.orders.lockForPayment(tx, orderId))!;
    const actor = { type: 'system' as const, name: 'payments' };
    if (order.status === 'confirmed') await this.deps.orders.transitionInTx(tx, orderId, 'cancelled', actor);
    if (['confirmed', 'cancelled', 'shipped', 'delivered'].includes(order.status))
      await this.deps.orders.transitionInTx(tx, orderId, 'refunded', actor);
  }

  /**
   * Admin refund of a paid order, whole (no amount) or part, once per Idempotency-Key: the same
   * key and request answer the same refund; the same key with another request is refused.
   */
  async refundOrder(
    orderId: string,
    request: { amount?: number; items?: RefundedItem[]; reason?: string },
    idempotencyKey: string,
  ): Promise<PaymentRefund[]> {
    // A refund of lines raced by another of the same order is priced again (see linesAmount).
    for (let round = 1; ; round++) {
      try {
        return await this.refundOrderOnce(orderId, request, idempotencyKey);
      } catch (error) {
        if (!(error instanceof StaleLines) || round === 3)
          throw error instanceof StaleLines ? error.conflict : error;
      }
    }
  }

  private async refundOrderOnce(
    orderId: string,
    request: { amount?: number; items?: RefundedItem[]; reason?: string },
    idempotencyKey: string,
  ): Promise<PaymentRefund[]> {
    const order = await this.deps.orders.getAdmin(orderId);
    const reason = request.reason ?? 'requested_by_customer';
    const requestHash = createHash('sha256')
      .update(
        JSON.stringify([order.id, request.amount ?? null, reason, ...(request.items ? [request.items] : [])]),
      )
      .digest('hex');
    const db = this.deps.db.primary;
    const prefix = `admin:${idempotencyKey}:`;
    const earlier = await refundsSql.refundsByKeyPrefix(db, prefix);
    if (earlier.length > 0) {
      if (earlier.some((r) => r.request_hash !== requestHash))
        throw new AppError(
          'unprocessable',
          'idempotency_key_reused',
          'This Idempotency-Key was used for another refund',
        );
      // The same request again: the same refunds (one the provider never answered is asked again).
      const again: RefundRow[] = [];
      for (const r of earlier)
        again.push(
          (await this.refundAttempt(r.attempt_id, { reason, key: r.idempotency_key, requestHash })) ?? r,
        );
      return again.map(toRefund);
    }
    // The money is taken from the attempt that paid the order first, then from any other.
    const paying = (await paymentsSql.attemptsOf(db, order.id))
      .filter((a) => HOLDING_MONEY.includes(a.status) && a.provider_reference && a.refunded_amount < a.amount)
      .sort((x, y) => Number(y.confirmed_order) - Number(x.confirmed_order));
    const holding = paying.reduce((sum, a) => sum + a.amount - a.refunded_amount, 0);
    if (holding === 0)
      throw AppError.conflict('nothing_to_refund', 'This order holds no payment that can be refunded');
    if (request.amount !== undefined && request.amount > holding)
      throw AppError.conflict(
        'refund_exceeds_payment',
        `At most ${holding} can be refunded from this order`,
        {
          refundable: holding,
        },
      );
    const wanted = request.items
      ? await this.linesAmount(db, order, request.items)
      : (request.amount ?? holding);
    if (wanted > holding)
      throw AppError.conflict(
        'refund_exceeds_payment',
        `At most ${holding} can be refunded from this order`,
        {
          refundable: holding,
        },
      );
    const refunds: RefundRow[] = [];
    let left = wanted;
    for (const a of paying) {
      if (left <= 0) break;
      const amount = Math.min(left, a.amount - a.refunded_amount);
      // The lines are written on the request's first refund: units are counted once, and counted
      // again under the order's lock in that refund's transaction (another refund of the same
      // lines may have landed since they were priced above).
      const lines = request.items;
      const items =
        lines && refunds.length === 0
          ? {
              items: lines,
              check: async (tx: Tx) => {
                await refundsSql.lockOrderLines(tx, order.id);
                if ((await this.linesAmount(tx, order, lines)) !== wanted) throw new StaleLines();
              },
            }
          : {};
      const r = await this.refundAttempt(a.id, {
        amount,
        reason,
        key: `${prefix}${a.id}`,
        requestHash,
        ...items,
      });
      if (r) {
        refunds.push(r);
        left -= r.amount;
      }
    }
    return refunds.map(toRefund);
  }

  /**
   * What giving back `items` (units of order lines) comes to: what was paid for those units, the
   * line's price less its share of the discounts, split over its units to the centavo (the units
   * of a line refunded one by one add up to exactly what the line cost). Units already refunded
   * (by refunds not failed) are counted first; more units than are left: 409 `refund_exceeds_line`.
   */
  private async linesAmount(db: Queryable, order: Order, items: RefundedItem[]): Promise<number> {
    const before = new Map<string, number>();
    for (const r of await refundsSql.refundsOf(db, order.id))
      if (r.status !== 'failed')
        for (const i of r.items ?? [])
          before.set(i.orderItemId, (before.get(i.orderItemId) ?? 0) + i.quantity);
    let amount = 0;
    const asked = new Map<string, number>();
    for (const i of items) asked.set(i.orderItemId, (asked.get(i.orderItemId) ?? 0) + i.quantity);
    for (const [orderItemId, units] of asked) {
      const line = order.items.find((l) => l.id === orderItemId);
      if (!line)
        throw AppError.invalid('No such line on this order', [
          { field: 'items.orderItemId', message: orderItemId },
        ]);
      const done = before.get(orderItemId) ?? 0;
      if (done + units > line.quantity)
        throw AppError.conflict(
          'refund_exceeds_line',
          `At most ${line.quantity - done} units of this line are left`,
          {
            orderItemId,
            refundable: line.quantity - done,
          },
        );
      amount += unitsAmount(line.unitPrice * line.quantity - line.discountAmount, line.quantity, done, units);
    }
    return amount;
  }

  /**
   * The provider's total refunded for a payment (Stripe's `charge.refunded`): it includes the
   * refunds ShopFlow made, so it is kept as a floor of the refunded amount (the largest total
   * reported), never added to it; refunds made outside ShopFlow (the provider's dashboard) count
   * through it.
   */
  async recordRefundedTotal(attemptId: string, total: number): Promise<void> {
    await withTransaction(this.deps.db.primary, async (tx) => {
      const a = (await paymentsSql.lockAttempt(tx, attemptId))!;
      if (!HOLDING_MONEY.includes(a.status) && a.status !== 'refunded') return;
      await refundsSql.raiseProviderRefunded(tx, a.id, total);
      await this.recount(tx, a, 'provider');
    });
  }
}
