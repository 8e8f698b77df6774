import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
export type PaymentMethod = 'card' | 'pix' | 'boleto';

/**
 * Who pays: a boleto needs the payer's name, e-mail, CPF/CNPJ and address (Brazilian rules); a
 * provider may want some of it for other methods too ({@link PaymentProvider.requiredPayerFields}).
 */
export interface Payer {
  name?: string;
  email: string;
  /** CPF (11 digits) or CNPJ (14 characters, letters allowed from 2026), without its mask. */
  taxId?: string;
  address?: {
    line1: string;
    /** The street number and the district (bairro): Mercado Pago registers a boleto with them. */
    number?: string;
    district?: string;
    city: string;
    state: string;
    postalCode: string;
    country: string;
  };
}

/** What a boleto needs from the payer wherever it is registered. */
export const BOLETO_PAYER_FIELDS = ['name', 'email', 'taxId', 'address'] as const;

export interface PaymentRequest {
  attemptId: string;
  orderId: string;
  /** Taken from the order (minor units), never from the client. */
  amount: number;
  currency: string;
  method: PaymentMethod;
  /** A provider token for the card (Stripe: a PaymentMethod id `pm_...` made by Stripe.js). */
  token?: string;
  payer?: Payer;
  /** Until when a PIX code can be paid / a boleto's due date (set by ShopFlow's configuration). */
  expiresAt?: Date;
  /**
   * Card in installments (providers with `installments`): the count chosen; `amount` is then that
   * plan's total, computed by ShopFlow. The card brand and issuer as the provider's browser SDK
   * named them (Mercado Pago's `payment_method_id`, `issuer_id`).
   */
  installments?: number;
  paymentMethodId?: string;
  issuerId?: string;
}

/** What the payer needs to finish a payment that is not settled at once. */
export type NextAction =
  | {
      type: 'pix';
      code: string;
      qrCodeUrl: string | null;
      /** The QR code as a base64 PNG, when the provider answers one (Mercado Pago). */
      qrCodeBase64?: string | null;
      expiresAt: string;
    }
  | { type: 'boleto'; number: string | null; voucherUrl: string; pdfUrl: string | null; expiresAt: string }
  | { type: 'card_authentication'; clientSecret: string };

/** A payment as the provider sees it. */
export interface PaymentState {
  /** The provider's id of the payment (Stripe: the PaymentIntent id). */
  reference: string;
  status: 'succeeded' | 'pending' | 'failed';
  /** Received (succeeded) or asked (otherwise), minor units. */
  amount: number;
  /** ISO 4217, upper case. */
  currency: string;
  reason?: string;
  nextAction?: NextAction;
  /** Our ids, as the provider keeps them (metadata). */
  attemptId?: string;
  orderId?: string;
  /** The payment's refunded total now, when the provider tells it with the payment (Mercado Pago). */
  refundedAmount?: number;
  /** A chargeback or dispute on a received payment (`charged_back`, `in_mediation`): a person looks. */
  dispute?: string;
}

export interface RefundRequest {
  /** The payment to refund (its provider reference). */
  reference: string;
  amount: number;
  /** Sent as the provider's idempotency key: the same refund asked twice is paid once. */
  idempotencyKey: string;
  reason: string;
  /** Our refund's id, kept by the provider with the refund (metadata). */
  refundId?: string;
}

export interface RefundState {
  reference: string;
  status: 'succeeded' | 'pending' | 'failed';
  reason?: string;
  /** Our refund's id as the provider keeps it (metadata), when it does. */
  refundId?: string;
}

/** A verified webhook delivery, decoded. */
export type ProviderEvent = { id: string; type: string } & (
  | { kind: 'payment'; state: PaymentState }
  /** The payment's refunded total now (cumulative: out-of-order deliveries cannot shrink it). */
  | { kind: 'refunded'; paymentReference: string; refundedAmount: number }
  | { kind: 'refund'; paymentReference: string; refund: RefundState }
  /** Something happened to this payment: its state is read back from the provider's API. */
  | { kind: 'lookup'; paymentReference: string }
  | { kind: 'ignored' }
);

/**
 * A provider failure that leaves the outcome unknown (network, timeout, the provider's 5xx): the
 * payment may or may not exist. Nothing is marked failed on it; reconciliation asks later.
 */
export class ProviderUnavailableError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ProviderUnavailableError';
  }
}

/** A webhook delivery that is not from the provider, or too old (replay window). */
export class WebhookRejectedError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'WebhookRejectedError';
  }
}

/**
 * The port to a payment provider. Stripe implements it; Mercado Pago or Pagar.me would too: create
 * a payment for an order, read its state, cancel it, refund it, and turn a webhook into an event.
 * Definite refusals (a declined card) come back as `failed` states; an unknown outcome throws
 * {@link ProviderUnavailableError}.
 */
export interface PaymentProvider {
  readonly name: string;
  /** False: payments are refused before anything is written (no provider configured). */
  readonly enabled: boolean;
  readonly methods: readonly PaymentMethod[];
  /**
   * The payer's fields this provider needs, by method (dotted paths in {@link Payer}), checked
   * before anything is written; a boleto needs {@link BOLETO_PAYER_FIELDS} at least.
   */
  readonly requiredPayerFields?: Partial<Record<PaymentMethod, readonly string[]>>;
  /** Whether card payments may be split in installments (Brazilian parcelamento). */
  readonly installments: boolean;
  /**
   * The installment counts the provider offers for this card brand and issuer and amount, when it
   * says (Mercado Pago's installments API); undefined when it has no such rules.
   */
  installmentCounts?(
    amount: number,
    card: { paymentMethodId: string; issuerId?: string },
  ): Promise<number[] | undefined>;
  createPayment(request: PaymentRequest): Promise<PaymentState>;
  retrieve(reference: string): Promise<PaymentState>;
  /** The payment made for an attempt whose answer was lost (the provider searched by metadata). */
  findByAttempt(attemptId: string): Promise<PaymentState | undefined>;
  /** Cancels a payment not yet made (a PIX code, a boleto): the state after it. */
  cancel(reference: string): Promise<PaymentState>;
  refund(request: RefundRequest): Promise<RefundState>;
  /**
   * Verifies a webhook (signature, age) and decodes it; throws {@link WebhookRejectedError}.
   * `query`: the delivery URL's query string (Mercado Pago signs its `data.id`).
   */
  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    query?: Record<string, unknown>,
  ): ProviderEvent;
}

const ALL_METHODS: readonly PaymentMethod[] = ['card', 'pix', 'boleto'];

/**
 * A deterministic provider for development and tests; no money moves. Cards: the token
 * `tok_fail_<reason>` fails with `<reason>` (e.g. `tok_fail_card_declined`), a token containing
 * `slow_<ms>` answers after that many milliseconds (at most 5,000), one containing `norefund` is
 * paid but its refunds are refused (`tok_norefund_slow_800`), any other token succeeds. PIX and boleto
 * stay pending with a made-up code until they expire (nothing can pay them). Its memory of
 * payments is per process. Refused with NODE_ENV=production.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test';
  readonly enabled = true;
  readonly methods = ALL_METHODS;
  readonly installments = true;
  private readonly payments = new Map<string, PaymentState>();
  private readonly noRefunds = new Set<string>();

  async createPayment(request: PaymentRequest): Promise<PaymentState> {
    const reference = `test_${createHash('sha256').update(request.attemptId).digest('hex').slice(0, 24)}`;
    const base = {
      reference,
      amount: request.amount,
      currency: request.currency,
      attemptId: request.attemptId,
      orderId: request.orderId,
    };
    let state: PaymentState;
    if (request.method === 'card') {
      const token = request.token ?? '';
      const slow = /^tok_[a-z_]*slow_(\d{1,4})$/.exec(token);
      if (token.includes('norefund')) this.noRefunds.add(reference);
      if (slow) await sleep(Math.min(5000, Number(slow[1])));
      const m = /^tok_fail_([a-z0-9_]{1,60})$/.exec(token);
      state = m ? { ...base, status: 'failed', reason: m[1]! } : { ...base, status: 'succeeded' };
    } else {
      const expiresAt = (request.expiresAt ?? new Date(Date.now() + 30 * 60_000)).toISOString();
      state = {
        ...base,
        status: 'pending',
        nextAction:
          request.method === 'pix'
            ? { type: 'pix', code: `00020126TEST${reference}`, qrCodeUrl: null, expiresAt }
            : {
                type: 'boleto',
                number: `00190.00009 ${reference.slice(5, 15)}`,
                voucherUrl: `https://example.invalid/boleto/${reference}`,
                pdfUrl: null,
                expiresAt,
              },
      };
    }
    this.payments.set(reference, state);
    return state;
  }

  retrieve(reference: string): Promise<PaymentState> {
    // Its memory is per process: a payment it no longer knows (made before a restart) can never
    // be paid now, which is what `failed` says.
    return Promise.resolve(
      this.payments.get(reference) ?? {
        reference,
        status: 'failed',
        amount: 0,
        currency: 'BRL',
        reason: 'unknown_to_test_provider',
      },
    );
  }

  findByAttempt(attemptId: string): Promise<PaymentState | undefined> {
    return Promise.resolve([...this.payments.values()].find((p) => p.attemptId === attemptId));
  }

  cancel(reference: string): Promise<PaymentState> {
    const state = this.payments.get(reference);
    if (state?.status === 'pending') {
      const canceled: PaymentState = { ...state, status: 'failed', reason: 'canceled' };
      delete canceled.nextAction;
      this.payments.set(reference, canceled);
      return Promise.resolve(canceled);
    }
    return this.retrieve(reference);
  }

  refund(request: RefundRequest): Promise<RefundState> {
    if (this.noRefunds.has(request.reference))
      return Promise.resolve({ reference: '', status: 'failed', reason: 'refund_declined' });
    const reference = `test_re_${createHash('sha256').update(request.idempotencyKey).digest('hex').slice(0, 24)}`;
    return Promise.resolve({ reference, status: 'succeeded' });
  }

  parseWebhook(): ProviderEvent {
    throw new WebhookRejectedError('the test provider sends no webhooks');
  }
}

/** No provider configured (`PAYMENT_PROVIDER=none`, the default next to a configured database). */
export class NoPaymentProvider implements PaymentProvider {
  readonly name = 'none';
  readonly enabled = false;
  readonly methods: readonly PaymentMethod[] = [];
  readonly installments = false;

  private refuse(): Promise<never> {
    return Promise.reject(new ProviderUnavailableError('no payment provider is configured'));
  }
  createPayment(): Promise<PaymentState> {
    return this.refuse();
  }
  retrieve(): Promise<PaymentState> {
    return this.refuse();
  }
  findByAttempt(): Promise<PaymentState | undefined> {
    return this.refuse();
  }
  cancel(): Promise<PaymentState> {
    return this.refuse();
  }
  refund(): Promise<RefundState> {
    return this.refuse();
  }
  parseWebhook(): ProviderEvent {
    throw new WebhookRejectedError('no payment provider is configured');
  }
}
