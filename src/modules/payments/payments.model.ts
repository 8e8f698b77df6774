/**
 * The payments module's shapes: what the service is built from (its dependencies and the store's
 * payment configuration), a payment attempt as the API shows it (and how a row becomes one), and
 * what a payer sends to pay. Split from payments.service.ts, which re-exports the public types.
 */
import type { Database } from '../../platform/db/pool.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { NextAction, Payer, PaymentMethod, PaymentProvider } from './payment-provider.ts';
import type { AttemptRow, AttemptStatus } from './payments.sql.ts';
import type { BoletoLimits } from './boleto-holds.ts';
import type { InstallmentPlan, InstallmentsRule } from './installments.ts';

export interface PaymentsConfig {
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
}

export interface PaymentsDeps {
  db: Database;
  orders: OrdersService;
  provider: PaymentProvider;
  config: PaymentsConfig;
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
  /** A card payment's installment plan: `total` is what was charged. */
  installments: InstallmentPlan | null;
  createdAt: string;
}

export const toAttempt = (r: AttemptRow): PaymentAttempt => ({
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
