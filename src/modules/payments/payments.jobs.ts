/**
 * The payments module's background work: the consumer that follows order status changes, the
 * reconciliation of attempts left pending, and the purge of failed attempts and old events.
 */
import type { Database } from '../../platform/db/pool.ts';
import { defineConsumer, type ConsumerSpec } from '../../platform/events/bus.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { AppError } from '../../platform/errors.ts';
import { ProviderUnavailableError, type PaymentProvider, type PaymentState } from './payment-provider.ts';
import {
  HOLDING_MONEY,
  PURGE_FAILED_ATTEMPTS_SQL,
  PURGE_PROCESSED_EVENTS_SQL,
  paymentsSql,
  type AttemptRow,
} from './payments.sql.ts';
import { releaseKey, type RefundsService } from './refunds.service.ts';

interface JobDeps {
  db: Database;
  provider: PaymentProvider;
  refunds: RefundsService;
  /** Records a payment state and acts on it (PaymentsService.apply). */
  apply: (attemptId: string, state: PaymentState) => Promise<AttemptRow>;
}

/**
 * When an order is cancelled (by a person, or by expiry), the money it holds goes back and the
 * payments still open at the provider (a PIX code, a boleto) are cancelled there. When an order
 * is confirmed, the other open payments for it are cancelled (the payer chose another way).
 */
export function paymentsConsumer(deps: JobDeps): ConsumerSpec {
  return defineConsumer({
    name: 'payments',
    bindings: ['order.status_changed'],
    handler: async (event) => {
      const status = event.payload.status;
      if (status !== 'cancelled' && status !== 'confirmed') return;
      if (!deps.provider.enabled) return;
      for (const a of await paymentsSql.attemptsOf(deps.db.primary, event.aggregateId)) {
        if (a.provider !== deps.provider.name) continue;
        if (a.status === 'pending' && a.provider_reference) {
          try {
            await deps.apply(a.id, await deps.provider.cancel(a.provider_reference));
          } catch (error) {
            if (error instanceof ProviderUnavailableError)
              throw AppError.unavailable('payment provider', error);
            throw error;
          }
        } else if (status === 'cancelled' && HOLDING_MONEY.includes(a.status)) {
          await deps.refunds.refundAttempt(a.id, { reason: 'order_cancelled', key: releaseKey(a.id) });
        }
      }
    },
  });
}

/**
 * Attempts left pending longer than the configured minutes (a lost answer, a missed webhook) are
 * settled by asking the provider; one the provider never received is marked failed.
 */
export function reconcileJob(deps: JobDeps, minutes: number): Job {
  return defineJob({
    name: 'reconcile-payments',
    schedule: '*/2 * * * *',
    description: `Asks the payment provider about attempts pending for more than ${minutes} minutes and settles them`,
    run: async (ctx) => {
      const counts = { checked: 0, settled: 0, unreachable: 0, refundsResent: 0 };
      if (!deps.provider.enabled) return counts;
      counts.refundsResent = await deps.refunds.resendRefunds(minutes);
      let after: { createdAt: Date; id: string } | undefined;
      for (;;) {
        if (ctx.signal.aborted) return counts;
        const batch = await paymentsSql.stalePending(
          deps.db.primary,
          deps.provider.name,
          minutes,
          after,
          100,
        );
        if (batch.length === 0) return counts;
        for (const a of batch) {
          counts.checked++;
          try {
            const state = a.provider_reference
              ? await deps.provider.retrieve(a.provider_reference)
              : await deps.provider.findByAttempt(a.id);
            const after = await deps.apply(
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

/**
 * Retention: failed attempts older than `days` are deleted (successful and pending ones are
 * kept), and so are processed webhook events past the same age.
 */
export function purgeJob(db: Database, days: number, batch = 5000): Job {
  return defineJob({
    name: 'purge-failed-payments',
    schedule: '40 3 * * *',
    retentionStep: 5,
    description: `Deletes failed payment attempts and processed webhook events older than ${days} days; successful payments are kept`,
    run: async (ctx) => ({
      deleted: await deleteInBatches(db.primary, PURGE_FAILED_ATTEMPTS_SQL, [days], ctx, {
        batch,
        unit: 'attempts',
      }),
      events: await deleteInBatches(db.primary, PURGE_PROCESSED_EVENTS_SQL, [days], ctx, {
        batch,
        unit: 'events',
      }),
    }),
  });
}
