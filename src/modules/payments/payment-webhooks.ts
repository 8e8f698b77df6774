/**
 * Webhook deliveries from the payment provider: verified (signature, replay window), recorded by
 * event id and applied once, through the payments service (payments) and the refunds service.
 */
import { withTransaction } from '../../platform/db/transaction.ts';
import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import {
  ProviderUnavailableError,
  WebhookRejectedError,
  type PaymentProvider,
  type PaymentState,
} from './payment-provider.ts';
import { paymentsSql, type AttemptRow } from './payments.sql.ts';
import { refundsSql } from './refunds.sql.ts';
import type { RefundsService } from './refunds.service.ts';

export class PaymentWebhooks {
  constructor(
    private readonly deps: {
      db: Database;
      provider: PaymentProvider;
      refunds: RefundsService;
      /** Records a payment state and acts on it (PaymentsService.apply). */
      apply: (attemptId: string, state: PaymentState) => Promise<AttemptRow>;
      /** Lists a received payment under attention for a dispute or chargeback. */
      dispute: (attemptId: string, reason: string) => Promise<void>;
    },
  ) {}

  /**
   * A webhook delivery: verified (signature, replay window), recorded by event id, applied once.
   * Unknown events and events about payments that are not ours are acknowledged and ignored.
   */
  async handleWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    query: Record<string, unknown> = {},
  ): Promise<{ received: true; duplicate?: true; ignored?: true }> {
    let event;
    try {
      event = this.deps.provider.parseWebhook(rawBody, headers, query);
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
    if (event.kind === 'payment' || event.kind === 'lookup') {
      // A notification that carries no state (Mercado Pago): the payment is read back from the API.
      const state = event.kind === 'payment' ? event.state : await this.readBack(event.paymentReference);
      const attempt = await this.findAttempt(state);
      if (attempt) await this.follow(attempt.id, state);
      else ignored = true;
    } else if (event.kind === 'refunded') {
      const attempt = await paymentsSql.attemptByReference(db, provider, event.paymentReference);
      if (attempt) await this.deps.refunds.recordRefundedTotal(attempt.id, event.refundedAmount);
      else ignored = true;
    } else if (event.kind === 'refund') {
      // By the provider's reference, or, before the refund call's answer was recorded, by our id.
      const byId = event.refund.refundId;
      const refund =
        (event.refund.reference
          ? await refundsSql.refundByReference(db, event.refund.reference)
          : undefined) ?? (byId && isUuid(byId) ? await refundsSql.unansweredRefund(db, byId) : undefined);
      if (refund)
        await withTransaction(db, (tx) => this.deps.refunds.settleRefund(tx, refund.id, event.refund));
      else ignored = true;
    } else ignored = true;
    await paymentsSql.markProcessed(db, provider, event.id);
    return ignored ? { received: true, ignored: true } : { received: true };
  }

  private async readBack(reference: string): Promise<PaymentState> {
    try {
      return await this.deps.provider.retrieve(reference);
    } catch (error) {
      // Stored, not processed: the provider delivers again, and it is processed then.
      if (error instanceof ProviderUnavailableError) throw AppError.unavailable('payment provider', error);
      throw error;
    }
  }

  /**
   * Applies a payment's state, then what comes with it: the provider's refunded total (refunds
   * made at the provider count, none twice) and a dispute or chargeback (listed for a person).
   */
  private async follow(attemptId: string, state: PaymentState): Promise<void> {
    await this.deps.apply(attemptId, state);
    if (state.status !== 'succeeded') return;
    if (state.refundedAmount && state.refundedAmount > 0)
      await this.deps.refunds.recordRefundedTotal(attemptId, state.refundedAmount);
    if (state.dispute) await this.deps.dispute(attemptId, state.dispute);
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
}
