/**
 * Opening a payment attempt, the steps of {@link PaymentsService.pay} before the provider's answer
 * is applied: the request is checked before anything is written (a provider, an accepted method,
 * the payer's required fields, installments the provider takes); the attempt is inserted with the
 * order locked (its owner, its state, a boleto's holders, the installment plan computed from the
 * order, at most one in flight and a bounded number per order); then the provider is called,
 * outside any transaction.
 */
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import type { Owner } from '../orders/orders.service.ts';
import {
  BOLETO_PAYER_FIELDS,
  ProviderUnavailableError,
  type Payer,
  type PaymentMethod,
  type PaymentProvider,
  type PaymentState,
} from './payment-provider.ts';
import { paymentsSql, type AttemptRow } from './payments.sql.ts';
import { admitBoleto } from './boleto-holds.ts';
import { installmentPlans, type InstallmentPlan } from './installments.ts';
import type { PayInput, PaymentsConfig, PaymentsDeps } from './payments.model.ts';

/** A pending card attempt younger than this blocks another (a double click); older ones are stale. */
const IN_FLIGHT_SECONDS = 60;

/** The value at a dotted path of a payer (`address.number`), for the required-field check. */
const payerField = (payer: Payer | undefined, path: string): unknown =>
  path
    .split('.')
    .reduce<unknown>(
      (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
      payer,
    );

/**
 * Refuses a payment that cannot be made before anything is written; true when it is a card
 * payment the provider may split in installments.
 */
export function checkPayable(provider: PaymentProvider, methods: PaymentMethod[], input: PayInput): boolean {
  if (!provider.enabled) {
    throw new AppError(
      'unavailable',
      'payments_unavailable',
      'Payments are not available: no payment provider is configured',
    );
  }
  if (!methods.includes(input.method)) {
    throw new AppError(
      'unprocessable',
      'payment_method_unavailable',
      `This store does not accept ${input.method}`,
      {
        details: { accepted: methods },
      },
    );
  }
  // What the payer must give for this method, named field by field, before anything is written.
  const required = [
    ...(input.method === 'boleto' ? BOLETO_PAYER_FIELDS : []),
    ...(provider.requiredPayerFields?.[input.method] ?? []),
  ];
  const missing = [...new Set(required)].filter((f) => !payerField(input.payer, f));
  if (missing.length > 0)
    throw AppError.invalid(
      `This payment needs the payer's ${missing.join(', ')}`,
      missing.map((f) => ({ field: `payer.${f}`, message: 'required' })),
    );
  const splits = input.method === 'card' && provider.installments;
  if (input.method === 'card' && (input.installments ?? 1) > 1 && !splits)
    throw new AppError(
      'unprocessable',
      'installments_unavailable',
      `The payment provider (${provider.name}) takes no installments: pay in 1`,
    );
  return splits;
}

/** The plan of `count` installments of an order's total, or 422 when the store offers no such plan. */
function planOf(total: number, count: number, config: PaymentsConfig): InstallmentPlan {
  const plans = installmentPlans(total, config.installments);
  const plan = plans.find((p) => p.count === count);
  if (!plan)
    throw new AppError(
      'unprocessable',
      'installments_not_offered',
      `This order cannot be paid in ${count} installments`,
      { details: { offered: plans.map((p) => p.count) } },
    );
  return plan;
}

/**
 * Inserts a pending attempt for one of the owner's pending orders, in one transaction with the
 * order locked: 404 for someone else's order (or none), 409 when it is not pending, already paid,
 * being paid (a double click) or out of attempts.
 */
export function openAttempt(
  deps: PaymentsDeps,
  p: { owner: Owner; orderId: string; input: PayInput; address: string | null; splits: boolean },
): Promise<AttemptRow> {
  const { owner, orderId, input, address } = p;
  return withTransaction(deps.db.primary, async (tx) => {
    // Someone else's order (or none) is 404, whatever its state.
    const current = isUuid(orderId)
      ? await deps.orders.lockForPayment(tx, orderId, {
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
        ? await admitBoleto(tx, deps.config, { owner, orderId, payer: input.payer, address })
        : null;
    // The plan's total is computed here from the locked order: never an amount from the client.
    const plan = p.splits ? planOf(current.total_amount, input.installments ?? 1, deps.config) : null;
    const max = deps.config.maxAttemptsPerOrder;
    const inserted = await paymentsSql.insertAttempt(
      tx,
      {
        orderId,
        provider: deps.provider.name,
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
}

/**
 * Asks the provider to take an opened attempt's money (PIX and boleto with their expiry). When the
 * provider cannot be reached the outcome is unknown: the attempt stays pending (503) and
 * reconciliation asks the provider later.
 */
export async function createAtProvider(
  deps: PaymentsDeps,
  orderId: string,
  attempt: AttemptRow,
  input: PayInput,
): Promise<PaymentState> {
  const { pixExpiryMinutes, boletoExpiryDays } = deps.config;
  const expiresAt =
    input.method === 'pix'
      ? new Date(Date.now() + pixExpiryMinutes * 60_000)
      : input.method === 'boleto'
        ? new Date(Date.now() + boletoExpiryDays * 86_400_000)
        : undefined;
  try {
    return await deps.provider.createPayment({
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
}
