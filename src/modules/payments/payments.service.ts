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
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import type { ConsumerSpec } from '../../platform/events/bus.ts';
import { recordEvents, type DomainEvent } from '../../platform/events/outbox.ts';
import type { Job } from '../../platform/jobs/job.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import type { Order, OrdersService, Owner } from '../orders/orders.service.ts';
import {
  BOLETO_PAYER_FIELDS,
  ProviderUnavailableError,
  type NextAction,
  type Payer,
  type PaymentMethod,
  type PaymentProvider,
  type PaymentState,
} from './payment-provider.ts';
import { paymentsSql, type AttemptRow, type AttemptStatus } from './payments.sql.ts';
import { refundsSql, type RefundedItem } from './refunds.sql.ts';
import { PaymentWebhooks } from './payment-webhooks.ts';
import { admitBoleto, type BoletoLimits } from './boleto-holds.ts';
import { paymentsConsumer, purgeJob, reconcileJob } from './payments.jobs.ts';
import { RefundsService, releaseKey, toRefund, type PaymentRefund } from './refunds.service.ts';
import { installmentPlans, type InstallmentPlan, type InstallmentsRule } from './installments.ts';

export type { BoletoLimits, PaymentRefund, InstallmentPlan };

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
  /** A card payment's installment plan: `total` is what was charged. */
  installments: InstallmentPlan | null;
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
  installments:
    r.installments !== null
      ? {
          count: r.installments,
          amount: r.installment_amount!,
          total: r.installment_total!,
          interestFree: r.installment_interest_free ?? true,
        }
      : null,
  createdAt: r.created_at.toISOString(),
});

/** The value at a dotted path of a payer (`address.number`), for the required-field check. */
const payerField = (payer: Payer | undefined, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      payer,
    );

/** A pending card attempt younger than this blocks another (a double click); older ones are stale. */
const IN_FLIGHT_SECONDS = 60;
/** A PIX paid at its last second reaches us a little later: the order waits this long after it. */
const PIX_GRACE_MS = 5 * 60_000;
export interface PayInput {
  method: PaymentMethod;
  /** Card: the provider's token for it. */
  token?: string;
  /** Boleto (and a card, for a provider that wants it): who pays. */
  payer?: Payer;
  /** Card: the installments chosen (a plan of GET /store/orders/:id/installments; default 1). */
  installments?: number;
  /** Card: the brand and issuer named by the provider's browser SDK (Mercado Pago). */
  paymentMethodId?: string;
  issuerId?: string;
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
        /**
         * Attempts one order may have. Stolen-card testers use a store's payment form to find which
         * cards work; a few tries per order are what a real payer needs.
         */
        maxAttemptsPerOrder: number;
        /** Who may pay by boleto and how many pending boletos a payer document and an address hold. */
        boleto: BoletoLimits;
        /** Minutes an unpaid order holds its stock before a payment method extends it. */
        pendingTtlMinutes: number;
        /** The store's installment rule for cards. */
        installments: InstallmentsRule;
      };
    },
  ) {
    this.refunds = new RefundsService(deps);
    const apply = (attemptId: string, state: PaymentState) => this.apply(attemptId, state);
    const dispute = (attemptId: string, reason: string) => this.markDispute(attemptId, reason);
    this.webhooks = new PaymentWebhooks({ ...deps, refunds: this.refunds, apply, dispute });
    this.jobDeps = { ...deps, refunds: this.refunds, apply };
  }

  private readonly refunds: RefundsService;
  private readonly webhooks: PaymentWebhooks;
  private readonly jobDeps: Parameters<typeof reconcileJob>[0];

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
    /** The payer's client address (a boleto's holder, see admitBoleto). */
    address: string | null = null,
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
    // What the payer must give for this method, named field by field, before anything is written.
    const required = [
      ...(input.method === 'boleto' ? BOLETO_PAYER_FIELDS : []),
      ...(this.deps.provider.requiredPayerFields?.[input.method] ?? []),
    ];
    const missing = [...new Set(required)].filter((f) => !payerField(input.payer, f));
    if (missing.length > 0)
      throw AppError.invalid(
        `This payment needs the payer's ${missing.join(', ')}`,
        missing.map((f) => ({ field: `payer.${f}`, message: 'required' })),
      );
    const splits = input.method === 'card' && this.deps.provider.installments;
    if (input.method === 'card' && (input.installments ?? 1) > 1 && !splits)
      throw new AppError(
        'unprocessable',
        'installments_unavailable',
        `The payment provider (${this.deps.provider.name}) takes no installments: pay in 1`,
      );
    const attempt = await withTransaction(this.deps.db.primary, async (tx) => {
      // Someone else's order (or none) is 404, whatever its state.
      const current = isUuid(orderId)
        ? await this.deps.orders.lockForPayment(tx, orderId, {
            customerId: 'customerId' in owner ? owner.customerId : null,
            guestSessionId: 'guestSessionId' in owner ? owner.guestSessionId : null,
          })
        : undefined;
      if (!current) throw AppError.notFound('Order', { orderId });
      if (current.status !== 'pending') {
        throw AppError.conflict('order_not_payable', `An order that is ${current.status} cannot be paid`);
      }
      const holder =
        input.method === 'boleto'
          ? await admitBoleto(tx, this.deps.config, { owner, orderId, payer: input.payer, address })
          : null;
      // The plan's total is computed here from the locked order: never an amount from the client.
      let plan: InstallmentPlan | null = null;
      if (splits) {
        const count = input.installments ?? 1;
        const plans = installmentPlans(current.total_amount, this.deps.config.installments);
        plan = plans.find((p) => p.count === count) ?? null;
        if (!plan)
          throw new AppError(
            'unprocessable',
            'installments_not_offered',
            `This order cannot be paid in ${count} installments`,
            { details: { offered: plans.map((p) => p.count) } },
          );
      }
      const max = this.deps.config.maxAttemptsPerOrder;
      const inserted = await paymentsSql.insertAttempt(
        tx,
        {
          orderId,
          provider: this.deps.provider.name,
          method: input.method,
          amount: plan?.total ?? current.total_amount,
          currency: current.currency ?? 'BRL',
          payerKey: holder?.payerKey ?? null,
          holdAddress: holder?.address ?? null,
          plan,
        },
        { inFlightSeconds: IN_FLIGHT_SECONDS, max },
      );
      if (inserted) return inserted;
      if (await paymentsSql.busy(tx, orderId, IN_FLIGHT_SECONDS))
        throw AppError.conflict('payment_in_progress', 'A payment for this order is already in progress');
      throw AppError.conflict(
        'too_many_payment_attempts',
        `An order can be paid in at most ${max} attempts: place a new order`,
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
        ...(attempt.installments !== null ? { installments: attempt.installments } : {}),
        ...(input.paymentMethodId ? { paymentMethodId: input.paymentMethodId } : {}),
        ...(input.issuerId ? { issuerId: input.issuerId } : {}),
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
      await this.refunds.refundAttempt(attempt.id, {
        reason: from === 'cancelled' || from === 'refunded' ? `order_${from}` : 'duplicate_payment',
        key: releaseKey(attempt.id),
      });
      return (await paymentsSql.attemptById(this.deps.db.primary, attempt.id))!;
    }
  }

  /** How an order is paid (shown on the order and its invoice): method, status, installment plan. */
  async paymentOf(
    orderId: string,
  ): Promise<{ method: PaymentMethod; status: AttemptStatus; installments: InstallmentPlan | null } | null> {
    const a = await paymentsSql.paymentOf(this.deps.db.primary, orderId);
    if (!a) return null;
    const { method, status, installments } = toAttempt(a);
    return { method, status, installments };
  }

  /**
   * The installment plans for one of the caller's orders: the store's rule, intersected with the
   * provider's own for the card when its brand (and issuer) are given and the provider has such
   * rules. A provider without installments offers one.
   */
  async installmentOptions(
    owner: Owner,
    orderId: string,
    card?: { paymentMethodId: string; issuerId?: string },
  ): Promise<InstallmentPlan[]> {
    if (!isUuid(orderId)) throw AppError.notFound('Order', { orderId });
    const order = await this.deps.orders.getOwned(owner, orderId);
    const rule = this.deps.config.installments;
    if (!this.deps.provider.installments || !this.methods.includes('card'))
      return installmentPlans(order.totalAmount, { ...rule, max: 1 });
    let allowed: number[] | undefined;
    if (card && this.deps.provider.installmentCounts) {
      try {
        allowed = await this.deps.provider.installmentCounts(order.totalAmount, card);
      } catch (error) {
        if (error instanceof ProviderUnavailableError) throw AppError.unavailable('payment provider', error);
        throw error;
      }
    }
    return installmentPlans(order.totalAmount, rule, allowed);
  }

  /**
   * A received payment the provider reports disputed or charged back: listed for a person
   * (attention), once per reason (event `payment.attention`).
   */
  async markDispute(attemptId: string, dispute: string): Promise<void> {
    await withTransaction(this.deps.db.primary, async (tx) => {
      const a = (await paymentsSql.lockAttempt(tx, attemptId))!;
      const reason = `dispute: ${dispute}`;
      if (!(await paymentsSql.markAttention(tx, a.id, reason))) return;
      await recordEvents(tx, [
        {
          type: 'payment.attention',
          aggregateType: 'order',
          aggregateId: a.order_id,
          payload: { orderId: a.order_id, attemptId: a.id, provider: a.provider, reason },
        },
      ]);
    });
  }

  /** The attempts and refunds of these orders as archival copies them, by order id. */
  archiveRowsOf(
    orderIds: string[],
  ): Promise<Map<string, { payments: Record<string, unknown>[]; refunds: Record<string, unknown>[] }>> {
    return paymentsSql.archiveRowsOf(this.deps.db.primary, orderIds);
  }

  /** Puts an archived order's attempts and refunds back, in the caller's transaction. */
  restoreArchived(
    tx: Tx,
    payments: Record<string, unknown>[],
    refunds: Record<string, unknown>[],
  ): Promise<void> {
    return paymentsSql.restoreArchived(tx, payments, refunds);
  }

  /** Payments that need a person: money to give back that could not be, amounts that differ, disputes. */
  async attention(limit: number): Promise<PaymentAttempt[]> {
    return (await paymentsSql.attention(this.deps.db.primary, limit)).map(toAttempt);
  }

  /** An order's attempts with their refunds (admin). */
  async list(orderId: string): Promise<(PaymentAttempt & { refunds: PaymentRefund[] })[]> {
    if (!isUuid(orderId)) throw AppError.notFound('Order', { orderId });
    const [attempts, refunds] = await Promise.all([
      paymentsSql.attemptsOf(this.deps.db.primary, orderId),
      refundsSql.refundsOf(this.deps.db.primary, orderId),
    ]);
    return attempts.map((a) => ({
      ...toAttempt(a),
      refunds: refunds.filter((r) => r.attempt_id === a.id).map(toRefund),
    }));
  }

  /**
   * Admin refund of a paid order, whole (no amount) or part, once per Idempotency-Key (see
   * {@link RefundsService.refundOrder}).
   */
  refundOrder(
    orderId: string,
    request: { amount?: number; items?: RefundedItem[]; reason?: string },
    idempotencyKey: string,
  ): Promise<PaymentRefund[]> {
    return this.refunds.refundOrder(orderId, request, idempotencyKey);
  }

  /** A webhook delivery (see {@link PaymentWebhooks.handleWebhook}). */
  handleWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    query: Record<string, unknown> = {},
  ): Promise<{ received: true; duplicate?: true; ignored?: true }> {
    return this.webhooks.handleWebhook(rawBody, headers, query);
  }

  /** Follows order status changes: see {@link paymentsConsumer}. */
  consumer(): ConsumerSpec {
    return paymentsConsumer(this.jobDeps);
  }

  /** Settles attempts left pending: see {@link reconcileJob}. */
  reconcileJob(): Job {
    return reconcileJob(this.jobDeps, this.deps.config.reconcileAfterMinutes);
  }

  /** Deletes old failed attempts and processed events: see {@link purgeJob}. */
  purgeJob(days: number, batch = 5000): Job {
    return purgeJob(this.deps.db, days, batch);
  }

  /** Erasure, in the caller's transaction: what these orders' attempts kept for the payer goes. */
  forgetPayerData(tx: Tx, orderIds: string[]): Promise<void> {
    return paymentsSql.forgetPayerData(tx, orderIds);
  }

  /** The attempts of these orders as the customer's data export shows them, by order. */
  exportOf(orderIds: string[]): Promise<Map<string, Record<string, unknown>[]>> {
    return paymentsSql.exportOf(this.deps.db.primary, orderIds);
  }
}
