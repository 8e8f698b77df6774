/**
 * Payments: an order is confirmed only by money the provider says it received, for the order's
 * exact amount and currency; money taken for an order that cannot be confirmed goes back by
 * itself (or is flagged `refund_required` for a person); nothing is charged or refunded twice.
 *
 * Every provider answer, whether it comes back from a call, a webhook or reconciliation, goes
 * through one place ({@link PaymentsService.apply}): it is recorded in its own transaction first,
 * and only then does the order move, so no later failure can lose the fact that money moved.
 * States only move forward (a late `failed` never undoes a `succeeded`).
 */
import { createHash } from 'node:crypto';
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { defineConsumer, type ConsumerSpec } from '../../platform/events/bus.ts';
import { recordEvents, type DomainEvent } from '../../platform/events/outbox.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import type { Order, OrdersService, Owner } from '../orders/orders.service.ts';
import {
  ProviderUnavailableError,
  WebhookRejectedError,
  type NextAction,
  type Payer,
  type PaymentMethod,
  type PaymentProvider,
  type PaymentState,
  type RefundState,
} from './payment-provider.ts';
import {
  HOLDING_MONEY,
  paymentsSql,
  type AttemptRow,
  type AttemptStatus,
  type RefundRow,
} from './payments.sql.ts';

export interface PaymentRefund {
  id: string;
  amount: number;
  status: RefundRow['status'];
  reason: string;
  providerReference: string | null;
  failureReason: string | null;
  createdAt: string;
}

export interface PaymentAttempt {
  id: string;
  orderId: string;
  provider: string;
  providerReference: string | null;
  status: AttemptStatus;
  method: PaymentMethod;
  amount: number;
  refundedAmount: number;
  currency: string;
  failureReason: string | null;
  attentionReason: string | null;
  nextAction: NextAction | null;
  expiresAt: string | null;
  createdAt: string;
}

const toAttempt = (r: AttemptRow): PaymentAttempt => ({
  id: r.id,
  orderId: r.order_id,
  provider: r.provider,
  providerReference: r.provider_reference,
  status: r.status,
  method: r.method,
  amount: r.amount,
  refundedAmount: r.refunded_amount,
  currency: r.currency,
  failureReason: r.failure_reason,
  attentionReason: r.attention_reason,
  // What the payer still has to do only matters while the attempt is pending.
  nextAction: r.status === 'pending' ? r.next_action : null,
  expiresAt: r.expires_at?.toISOString() ?? null,
  createdAt: r.created_at.toISOString(),
});

const toRefund = (r: RefundRow): PaymentRefund => ({
  id: r.id,
  amount: r.amount,
  status: r.status,
  reason: r.reason,
  providerReference: r.provider_reference,
  failureReason: r.failure_reason,
  createdAt: r.created_at.toISOString(),
});

/** A pending card attempt younger than this blocks another (a double click); older ones are stale. */
const IN_FLIGHT_SECONDS = 60;
/**
 * Attempts one order may have. Stolen-card testers use a store's payment form to find which cards
 * work; a few tries per order are what a real payer needs.
 */
export const MAX_ATTEMPTS_PER_ORDER = 10;
/** A PIX paid at its last second reaches us a little later: the order waits this long after it. */
const PIX_GRACE_MS = 5 * 60_000;
/** The refund that gives back whatever an attempt holds when its order cannot keep it. */
const releaseKey = (attemptId: string) => `release:${attemptId}`;

export interface PayInput {
  method: PaymentMethod;
  /** Card: the provider's token for it. */
  token?: string;
  /** Boleto: who pays. */
  payer?: Payer;
}

export class PaymentsService {
  constructor(
    private readonly deps: {
      db: Database;
      orders: OrdersService;
      provider: PaymentProvider;
      config: {
        /** The methods this store offers. */
        methods: readonly PaymentMethod[];
        pixExpiryMinutes: number;
        boletoExpiryDays: number;
        /** Days a paid boleto takes to reach us: the order keeps its stock this long past the due date. */
        boletoClearingDays: number;
        /** Pending attempts older than this are settled by asking the provider. */
        reconcileAfterMinutes: number;
      };
    },
  ) {}

  /** The configured provider's name (`test`, `stripe`, `none`): shown by /health/ready. */
  get providerName(): string {
    return this.deps.provider.name;
  }

  /** The methods a payer may choose: those configured that the provider supports. */
  get methods(): PaymentMethod[] {
    return this.deps.config.methods.filter((m) => this.deps.provider.methods.includes(m));
  }

  /**
   * Pays a pending order with the chosen method. The amount and currency are the order's. A card
   * settles at once (or asks for authentication); PIX and boleto answer with what the payer needs
   * and keep the order's stock until they expire. The provider is called outside any transaction.
   */
  async pay(
    owner: Owner,
    orderId: string,
    input: PayInput,
  ): Promise<{ attempt: PaymentAttempt; order: Order }> {
    if (!this.deps.provider.enabled) {
      throw new AppError(
        'unavailable',
        'payments_unavailable',
        'Payments are not available: no payment provider is configured',
      );
    }
    if (!this.methods.includes(input.method)) {
      throw new AppError(
        'unprocessable',
        'payment_method_unavailable',
        `This store does not accept ${input.method}`,
        {
          details: { accepted: this.methods },
        },
      );
    }
    const attempt = await withTransaction(this.deps.db.primary, async (tx) => {
      // Someone else's order (or none) is 404, whatever its state.
      const current = isUuid(orderId)
        ? await paymentsSql.lockOrder(tx, orderId, {
            customerId: 'customerId' in owner ? owner.customerId : null,
            guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
          })
        : undefined;
      if (!current) throw AppError.notFound('Order', { orderId });
      if (current.status !== 'pending') {
        throw AppError.conflict('order_not_payable', `An order that is ${current.status} cannot be paid`);
      }
      const inserted = await paymentsSql.insertAttempt(
        tx,
        {
          orderId,
          provider: this.deps.provider.name,
          method: input.method,
          amount: current.total_amount,
          currency: current.currency ?? 'BRL',
        },
        { inFlightSeconds: IN_FLIGHT_SECONDS, max: MAX_ATTEMPTS_PER_ORDER },
      );
      if (inserted) return inserted;
      if (await paymentsSql.busy(tx, orderId, IN_FLIGHT_SECONDS))
        throw AppError.conflict('payment_in_progress', 'A payment for this order is already in progress');
      throw AppError.conflict(
        'too_many_payment_attempts',
        `An order can be paid in at most ${MAX_ATTEMPTS_PER_ORDER} attempts: place a new order`,
      );
    });

    const { pixExpiryMinutes, boletoExpiryDays } = this.deps.config;
    const expiresAt =
      input.method === 'pix'
        ? new Date(Date.now() + pixExpiryMinutes * 60_000)
        : input.method === 'boleto'
          ? new Date(Date.now() + boletoExpiryDays * 86_400_000)
          : undefined;
    let state: PaymentState;
    try {
      state = await this.deps.provider.createPayment({
        attemptId: attempt.id,
        orderId,
        amount: attempt.amount,
        currency: attempt.currency,
        method: input.method,
        ...(input.token ? { token: input.token } : {}),
        ...(input.payer ? { payer: input.payer } : {}),
        ...(expiresAt ? { expiresAt } : {}),
      });
    } catch (error) {
      // The outcome is unknown: the attempt stays pending and reconciliation asks the provider.
      if (error instanceof ProviderUnavailableError) throw AppError.unavailable('payment provider', error);
      throw error;
    }
    const after = await this.apply(attempt.id, state);
    const settled = await this.deps.orders.getOwned(owner, orderId);
    if (after.status === 'refunded' || after.status === 'refund_required') {
      throw AppError.conflict(
        'order_not_payable',
        `The order was ${settled.status} while it was being paid: the payment ${after.status === 'refunded' ? 'was refunded' : 'will be refunded'}`,
        { refundRequired: after.status === 'refund_required', attemptId: after.id },
      );
    }
    return { attempt: toAttempt(after), order: settled };
  }

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
          const order = (await paymentsSql.lockOrder(tx, a.order_id))!;
          const expected = { amount: order.total_amount, currency: (order.currency ?? 'BRL').toUpperCase() };
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
        const expires =
          state.nextAction && 'expiresAt' in state.nextAction ? new Date(state.nextAction.expiresAt) : null;
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

  /** Refunds the provider never answered (it was away) are asked again, with the same key. */
  private async resendRefunds(minutes: number): Promise<number> {
    let sent = 0;
    for (const r of await paymentsSql.unsentRefunds(this.deps.db.primary, minutes, 100)) {
      try {
        await this.refundAttempt(r.attempt_id, { reason: r.reason, key: r.idempotency_key });
        sent++;
      } catch (error) {
        if (!(error instanceof AppError && error.kind === 'unavailable')) throw error;
      }
    }
    return sent;
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
        await this.deps.orders.transitionInTx(tx, attempt.order_id, 'confirmed');
        return paymentsSql.updateAttempt(tx, attempt.id, { confirmed_order: true });
      });
    } catch (error) {
      if (!(error instanceof AppError && error.code === 'invalid_transition')) throw error;
      const from = (error.details as { from?: string } | undefined)?.from ?? 'unknown';
      // Paid, but the order is cancelled, expired, or was paid by another attempt: give it back.
      await this.refundAttempt(attempt.id, {
        reason: from === 'cancelled' || from === 'refunded' ? `order_${from}` : 'duplicate_payment',
        key: releaseKey(attempt.id),
      });
      return (await paymentsSql.attemptById(this.deps.db.primary, attempt.id))!;
    }
  }

  /**
   * Refunds `amount` (default: all that is left) of an attempt through the provider, once per
   * `key`. A refund the provider refuses, or that cannot be asked, flags the attempt
   * `refund_required` (listed by {@link attention}); asked again with the same key, it is retried.
   */
  private async refundAttempt(
    attemptId: string,
    r: { amount?: number; reason: string; key: string; requestHash?: string },
  ): Promise<RefundRow | undefined> {
    const refund = await withTransaction(this.deps.db.primary, async (tx) => {
      const existing = await paymentsSql.refundByKey(tx, r.key);
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
      const left =
        HOLDING_MONEY.includes(a.status) && a.provider_reference ? await paymentsSql.refundable(tx, a) : 0;
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
        (await paymentsSql.insertRefund(tx, {
          attemptId,
          orderId: a.order_id,
          amount,
          reason: r.reason,
          key: r.key,
          requestHash: r.requestHash ?? null,
        })) ?? (await paymentsSql.refundByKey(tx, r.key))
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

  /** Applies a refund's outcome (from the call or a webhook), once. */
  private async settleRefund(tx: Tx, refundId: string, state: RefundState): Promise<RefundRow> {
    const refund = (await paymentsSql.lockRefund(tx, refundId))!;
    if (refund.status === state.status) {
      return state.reference && !refund.provider_reference
        ? paymentsSql.updateRefund(tx, refund.id, refund.status, state.reference, refund.failure_reason)
        : refund;
    }
    const a = (await paymentsSql.lockAttempt(tx, refund.attempt_id))!;
    const event = (type: string, payload: Record<string, unknown>) =>
      recordEvents(tx, [
        {
          type,
          aggregateType: 'order',
          aggregateId: a.order_id,
          payload: {
            orderId: a.order_id,
            attemptId: a.id,
            refundId: refund.id,
            amount: refund.amount,
            ...payload,
          },
        },
      ]);
    if (state.status === 'pending')
      return paymentsSql.updateRefund(tx, refund.id, 'pending', state.reference, null);
    if (state.status === 'succeeded') {
      const updated = await paymentsSql.updateRefund(tx, refund.id, 'succeeded', state.reference, null);
      const refunded = Math.min(a.amount, a.refunded_amount + refund.amount);
      await paymentsSql.updateAttempt(tx, a.id, {
        refunded_amount: refunded,
        ...(refunded >= a.amount ? { status: 'refunded' as const } : {}),
      });
      await event('payment.refunded', { reason: refund.reason, whole: refunded >= a.amount });
      await this.settleOrder(tx, a.order_id);
      return updated;
    }
    // Failed: if it had counted as paid back, it no longer does.
    const updated = await paymentsSql.updateRefund(
      tx,
      refund.id,
      'failed',
      state.reference,
      state.reason ?? 'failed',
    );
    const refunded = refund.status === 'succeeded' ? a.refunded_amount - refund.amount : a.refunded_amount;
    await paymentsSql.updateAttempt(tx, a.id, {
      refunded_amount: refunded,
      status: 'refund_required',
      failure_reason: `refund_failed: ${state.reason ?? 'failed'}`,
    });
    await event('payment.refund_required', { reason: `refund_failed: ${state.reason ?? 'failed'}` });
    return updated;
  }

  /**
   * An order whose money all went back becomes `refunded` (a confirmed one is cancelled first, so
   * its stock returns). An order that still holds money from some attempt stays as it is.
   */
  private async settleOrder(tx: Tx, orderId: string): Promise<void> {
    const attempts = await paymentsSql.attemptsOf(tx, orderId);
    if (!attempts.some((x) => x.status === 'refunded')) return;
    if (attempts.some((x) => HOLDING_MONEY.includes(x.status) && x.refunded_amount < x.amount)) return;
    const order = (await paymentsSql.lockOrder(tx, orderId))!;
    if (order.status === 'confirmed') await this.deps.orders.transitionInTx(tx, orderId, 'cancelled');
    if (['confirmed', 'cancelled', 'shipped', 'delivered'].includes(order.status))
      await this.deps.orders.transitionInTx(tx, orderId, 'refunded');
  }

  /**
   * Admin refund of a paid order, whole (no amount) or part, once per Idempotency-Key: the same
   * key and request answer the same refund; the same key with another request is refused.
   */
  async refundOrder(
    orderId: string,
    request: { amount?: number; reason?: string },
    idempotencyKey: string,
  ): Promise<PaymentRefund[]> {
    const order = await this.deps.orders.getAdmin(orderId);
    const reason = request.reason ?? 'requested_by_customer';
    const requestHash = createHash('sha256')
      .update(JSON.stringify([order.id, request.amount ?? null, reason]))
      .digest('hex');
    const db = this.deps.db.primary;
    const prefix = `admin:${idempotencyKey}:`;
    const earlier = await paymentsSql.refundsByKeyPrefix(db, prefix);
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
    const refunds: RefundRow[] = [];
    let left = request.amount ?? holding;
    for (const a of paying) {
      if (left <= 0) break;
      const amount = Math.min(left, a.amount - a.refunded_amount);
      const r = await this.refundAttempt(a.id, { amount, reason, key: `${prefix}${a.id}`, requestHash });
      if (r) {
        refunds.push(r);
        left -= r.amount;
      }
    }
    return refunds.map(toRefund);
  }

  /**
   * A webhook delivery: verified (signature, replay window), recorded by event id, applied once.
   * Unknown events and events about payments that are not ours are acknowledged and ignored.
   */
  async handleWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
  ): Promise<{ received: true; duplicate?: true; ignored?: true }> {
    let event;
    try {
      event = this.deps.provider.parseWebhook(rawBody, headers);
    } catch (error) {
      if (error instanceof WebhookRejectedError)
        throw new AppError('invalid', 'invalid_signature', `Webhook rejected: ${error.message}`);
      throw error;
    }
    const db = this.deps.db.primary;
    const provider = this.deps.provider.name;
    const fresh = await paymentsSql.receiveEvent(db, provider, event.id, event.type);
    if (!fresh && (await paymentsSql.eventProcessed(db, provider, event.id)))
      return { received: true, duplicate: true };
    let ignored = false;
    if (event.kind === 'payment') {
      const attempt = await this.findAttempt(event.state);
      if (attempt) await this.apply(attempt.id, event.state);
      else ignored = true;
    } else if (event.kind === 'refunded') {
      const attempt = await paymentsSql.attemptByReference(db, provider, event.paymentReference);
      if (attempt) await this.recordRefundedTotal(attempt.id, event.refundedAmount);
      else ignored = true;
    } else if (event.kind === 'refund') {
      const refund = event.refund.reference
        ? await paymentsSql.refundByReference(db, event.refund.reference)
        : undefined;
      if (refund) await withTransaction(db, (tx) => this.settleRefund(tx, refund.id, event.refund));
      else ignored = true;
    } else ignored = true;
    await paymentsSql.markProcessed(db, provider, event.id);
    return ignored ? { received: true, ignored: true } : { received: true };
  }

  private async findAttempt(state: PaymentState): Promise<AttemptRow | undefined> {
    const db = this.deps.db.primary;
    const byReference = await paymentsSql.attemptByReference(db, this.deps.provider.name, state.reference);
    if (byReference) return byReference;
    // The create call's answer was lost: the provider's metadata names the attempt.
    if (!state.attemptId || !isUuid(state.attemptId)) return undefined;
    const byId = await paymentsSql.attemptById(db, state.attemptId);
    return byId && byId.provider === this.deps.provider.name && byId.provider_reference === null
      ? byId
      : undefined;
  }

  /** A refund made outside ShopFlow (the provider's dashboard): the total refunded only grows. */
  private async recordRefundedTotal(attemptId: string, total: number): Promise<void> {
    await withTransaction(this.deps.db.primary, async (tx) => {
      const a = (await paymentsSql.lockAttempt(tx, attemptId))!;
      const refunded = Math.min(a.amount, total);
      if (refunded <= a.refunded_amount || !HOLDING_MONEY.includes(a.status)) return;
      await paymentsSql.updateAttempt(tx, a.id, {
        refunded_amount: refunded,
        ...(refunded >= a.amount ? { status: 'refunded' as const } : {}),
      });
      await recordEvents(tx, [
        {
          type: 'payment.refunded',
          aggregateType: 'order',
          aggregateId: a.order_id,
          payload: {
            orderId: a.order_id,
            attemptId: a.id,
            amount: refunded - a.refunded_amount,
            reason: 'provider',
          },
        },
      ]);
      await this.settleOrder(tx, a.order_id);
    });
  }

  /**
   * When an order is cancelled (by a person, or by expiry), the money it holds goes back and the
   * payments still open at the provider (a PIX code, a boleto) are cancelled there. When an order
   * is confirmed, the other open payments for it are cancelled (the payer chose another way).
   */
  consumer(): ConsumerSpec {
    return defineConsumer({
      name: 'payments',
      bindings: ['order.status_changed'],
      handler: async (event) => {
        const status = event.payload.status;
        if (status !== 'cancelled' && status !== 'confirmed') return;
        if (!this.deps.provider.enabled) return;
        for (const a of await paymentsSql.attemptsOf(this.deps.db.primary, event.aggregateId)) {
          if (a.provider !== this.deps.provider.name) continue;
          if (a.status === 'pending' && a.provider_reference) {
            try {
              await this.apply(a.id, await this.deps.provider.cancel(a.provider_reference));
            } catch (error) {
              if (error instanceof ProviderUnavailableError)
                throw AppError.unavailable('payment provider', error);
              throw error;
            }
          } else if (status === 'cancelled' && HOLDING_MONEY.includes(a.status)) {
            await this.refundAttempt(a.id, { reason: 'order_cancelled', key: releaseKey(a.id) });
          }
        }
      },
    });
  }

  /**
   * Attempts left pending longer than the configured minutes (a lost answer, a missed webhook) are
   * settled by asking the provider; one the provider never received is marked failed.
   */
  reconcileJob(): Job {
    const minutes = this.deps.config.reconcileAfterMinutes;
    return defineJob({
      name: 'reconcile-payments',
      schedule: '*/2 * * * *',
      description: `Asks the payment provider about attempts pending for more than ${minutes} minutes and settles them`,
      run: async (ctx) => {
        const counts = { checked: 0, settled: 0, unreachable: 0, refundsResent: 0 };
        if (!this.deps.provider.enabled) return counts;
        counts.refundsResent = await this.resendRefunds(minutes);
        let after: { createdAt: Date; id: string } | undefined;
        for (;;) {
          if (ctx.signal.aborted) return counts;
          const batch = await paymentsSql.stalePending(
            this.deps.db.primary,
            this.deps.provider.name,
            minutes,
            after,
            100,
          );
          if (batch.length === 0) return counts;
          for (const a of batch) {
            counts.checked++;
            try {
              const state = a.provider_reference
                ? await this.deps.provider.retrieve(a.provider_reference)
                : await this.deps.provider.findByAttempt(a.id);
              const after = await this.apply(
                a.id,
                state ?? {
                  reference: '',
                  status: 'failed',
                  amount: a.amount,
                  currency: a.currency,
                  reason: 'not_received_by_provider',
                },
              );
              if (after.status !== 'pending') counts.settled++;
            } catch (error) {
              if (!(error instanceof ProviderUnavailableError)) throw error;
              counts.unreachable++;
            }
          }
          const last = batch.at(-1)!;
          after = { createdAt: last.created_at, id: last.id };
          ctx.progress({ done: counts.checked, unit: 'attempts' });
        }
      },
    });
  }

  /** Payments that need a person: money to give back that could not be, amounts that differ. */
  async attention(limit: number): Promise<PaymentAttempt[]> {
    return (await paymentsSql.attention(this.deps.db.primary, limit)).map(toAttempt);
  }

  /** An order's attempts with their refunds (admin). */
  async list(orderId: string): Promise<(PaymentAttempt & { refunds: PaymentRefund[] })[]> {
    if (!isUuid(orderId)) throw AppError.notFound('Order', { orderId });
    const [attempts, refunds] = await Promise.all([
      paymentsSql.attemptsOf(this.deps.db.primary, orderId),
      paymentsSql.refundsOf(this.deps.db.primary, orderId),
    ]);
    return attempts.map((a) => ({
      ...toAttempt(a),
      refunds: refunds.filter((r) => r.attempt_id === a.id).map(toRefund),
    }));
  }

  /**
   * Retention: failed attempts older than `days` are deleted (successful and pending ones are
   * kept), and so are processed webhook events past the same age.
   */
  purgeJob(days: number, batch = 5000): Job {
    return defineJob({
      name: 'purge-failed-payments',
      schedule: '40 3 * * *',
      retentionStep: 3,
      description: `Deletes failed payment attempts and processed webhook events older than ${days} days; successful payments are kept`,
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
        events: await deleteInBatches(
          this.deps.db.primary,
          `DELETE FROM payment_events WHERE (provider, event_id) IN (
             SELECT provider, event_id FROM payment_events
             WHERE processed_at IS NOT NULL AND received_at < NOW() - make_interval(days => $1) LIMIT $2)`,
          [days],
          ctx,
          { batch, unit: 'events' },
        ),
      }),
    });
  }
}
