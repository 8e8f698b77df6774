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
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import type { ConsumerSpec } from '../../platform/events/bus.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import type { Job } from '../../platform/jobs/job.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import type { Order, Owner } from '../orders/orders.service.ts';
import { ProviderUnavailableError, type PaymentMethod, type PaymentState } from './payment-provider.ts';
import { paymentsSql, type AttemptRow, type AttemptStatus } from './payments.sql.ts';
import { refundsSql, type RefundedItem } from './refunds.sql.ts';
import { PaymentWebhooks } from './payment-webhooks.ts';
import type { BoletoLimits } from './boleto-holds.ts';
import { paymentsConsumer, purgeJob, reconcileJob } from './payments.jobs.ts';
import { RefundsService, toRefund, type PaymentRefund } from './refunds.service.ts';
import { installmentPlans, type InstallmentPlan } from './installments.ts';
import { toAttempt, type PayInput, type PaymentAttempt, type PaymentsDeps } from './payments.model.ts';
import { checkPayable, createAtProvider, openAttempt } from './payments.attempts.ts';
import { PaymentSettlement } from './payments.settlement.ts';

export type { BoletoLimits, PaymentRefund, InstallmentPlan, PaymentAttempt, PayInput };

export class PaymentsService {
  constructor(private readonly deps: PaymentsDeps) {
    this.refunds = new RefundsService(deps);
    this.settlement = new PaymentSettlement({ ...deps, refunds: this.refunds });
    const apply = (attemptId: string, state: PaymentState) => this.apply(attemptId, state);
    const dispute = (attemptId: string, reason: string) => this.markDispute(attemptId, reason);
    this.webhooks = new PaymentWebhooks({ ...deps, refunds: this.refunds, apply, dispute });
    this.jobDeps = { ...deps, refunds: this.refunds, apply };
  }

  private readonly refunds: RefundsService;
  private readonly settlement: PaymentSettlement;
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
   * and keep the order's stock until they expire. The provider is called outside any transaction
   * (the steps are in payments.attempts.ts).
   */
  async pay(
    owner: Owner,
    orderId: string,
    input: PayInput,
    /** The payer's client address (a boleto's holder, see admitBoleto). */
    address: string | null = null,
  ): Promise<{ attempt: PaymentAttempt; order: Order }> {
    const splits = checkPayable(this.deps.provider, this.methods, input);
    const attempt = await openAttempt(this.deps, { owner, orderId, input, address, splits });
    const state = await createAtProvider(this.deps, orderId, attempt, input);
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
   * Records what the provider says about an attempt, then acts on it (see
   * {@link PaymentSettlement.apply}): every provider answer goes through here.
   */
  apply(attemptId: string, state: PaymentState): Promise<AttemptRow> {
    return this.settlement.apply(attemptId, state);
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
