/**
 * Stripe behind the payment port, through Stripe's official SDK: PaymentIntents confirmed on the
 * server (cards with a PaymentMethod made by Stripe.js; PIX and boleto answered with the code or
 * voucher the payer needs), idempotency keys on every write, webhooks verified with the endpoint
 * secret. `api` points the SDK at a stand-in for api.stripe.com (tests, a local Stripe mock).
 */
import Stripe from 'stripe';
import { isUuid } from '../../platform/ids.ts';
import {
  ProviderUnavailableError,
  WebhookRejectedError,
  type PaymentMethod,
  type PaymentProvider,
  type PaymentRequest,
  type PaymentState,
  type ProviderEvent,
  type RefundRequest,
  type RefundState,
} from './payment-provider.ts';

export interface StripeProviderOptions {
  secretKey: string;
  webhookSecret: string;
  webhookToleranceSeconds: number;
  methods: readonly PaymentMethod[];
  api?: { host?: string; port?: number; protocol?: 'http' | 'https' };
}

const seconds = (date: Date) => Math.floor(date.getTime() / 1000);
const iso = (unixSeconds: number) => new Date(unixSeconds * 1000).toISOString();

export class StripePaymentProvider implements PaymentProvider {
  readonly name = 'stripe';
  readonly enabled = true;
  /** Stripe offers installments in Mexico and Japan only: none for Brazilian cards. */
  readonly installments = false;
  readonly methods: readonly PaymentMethod[];
  private readonly stripe: Stripe;

  constructor(private readonly options: StripeProviderOptions) {
    this.methods = options.methods;
    this.stripe = new Stripe(options.secretKey, {
      // The SDK retries network failures and 409/5xx itself, with the same idempotency key.
      maxNetworkRetries: 2,
      timeout: 20_000,
      appInfo: { name: 'ShopFlow' },
      ...(options.api ?? {}),
    });
  }

  async createPayment(request: PaymentRequest): Promise<PaymentState> {
    const params: Stripe.PaymentIntentCreateParams = {
      amount: request.amount,
      currency: request.currency.toLowerCase(),
      // Only the methods this store offers (PAYMENT_METHODS); the payer's choice is confirmed below.
      allowed_payment_method_types: [...this.methods],
      confirm: true,
      description: `Order ${request.orderId}`,
      metadata: { orderId: request.orderId, attemptId: request.attemptId },
    };
    if (request.method === 'card') {
      params.payment_method = request.token!;
    } else if (request.method === 'pix') {
      params.payment_method_data = { type: 'pix' };
      if (request.expiresAt)
        params.payment_method_options = { pix: { expires_at: seconds(request.expiresAt) } };
    } else {
      const payer = request.payer!;
      params.payment_method_data = {
        type: 'boleto',
        boleto: { tax_id: payer.taxId! },
        billing_details: {
          ...(payer.name ? { name: payer.name } : {}),
          email: payer.email,
          ...(payer.address
            ? {
                address: {
                  line1: payer.address.line1,
                  city: payer.address.city,
                  state: payer.address.state,
                  postal_code: payer.address.postalCode,
                  country: payer.address.country,
                },
              }
            : {}),
        },
      };
      if (request.expiresAt) {
        const days = Math.max(1, Math.round((request.expiresAt.getTime() - Date.now()) / 86_400_000));
        params.payment_method_options = { boleto: { expires_after_days: days } };
      }
    }
    try {
      return toState(await this.stripe.paymentIntents.create(params, { idempotencyKey: request.attemptId }));
    } catch (err) {
      return refusal(err);
    }
  }

  async retrieve(reference: string): Promise<PaymentState> {
    try {
      return toState(await this.stripe.paymentIntents.retrieve(reference));
    } catch (err) {
      throw unavailable(err);
    }
  }

  async findByAttempt(attemptId: string): Promise<PaymentState | undefined> {
    // attemptId is a UUID we generated (checked): nothing else goes into the search query.
    if (!isUuid(attemptId)) return undefined;
    try {
      const found = await this.stripe.paymentIntents.search({
        query: `metadata['attemptId']:'${attemptId}'`,
        limit: 1,
      });
      const first = found.data[0];
      return first ? toState(first) : undefined;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async cancel(reference: string): Promise<PaymentState> {
    try {
      return toState(await this.stripe.paymentIntents.cancel(reference));
    } catch (err) {
      // Already succeeded or canceled: the state is what it is.
      if (err instanceof Stripe.errors.StripeInvalidRequestError) return this.retrieve(reference);
      throw unavailable(err);
    }
  }

  async refund(request: RefundRequest): Promise<RefundState> {
    try {
      const refund = await this.stripe.refunds.create(
        {
          payment_intent: request.reference,
          amount: request.amount,
          reason: 'requested_by_customer',
          // Our refund's id: a webhook that arrives before this call's answer finds the refund by it.
          metadata: { reason: request.reason, ...(request.refundId ? { refundId: request.refundId } : {}) },
        },
        { idempotencyKey: request.idempotencyKey },
      );
      return toRefund(refund);
    } catch (err) {
      if (
        err instanceof Stripe.errors.StripeInvalidRequestError ||
        err instanceof Stripe.errors.StripeCardError
      ) {
        return { reference: '', status: 'failed', reason: err.code ?? err.type };
      }
      throw unavailable(err);
    }
  }

  parseWebhook(rawBody: Buffer, headers: Record<string, string | string[] | undefined>): ProviderEvent {
    const signature = headers['stripe-signature'];
    if (typeof signature !== 'string') throw new WebhookRejectedError('no Stripe-Signature header');
    let event: Stripe.Event;
    try {
      event = this.stripe.webhooks.constructEvent(
        rawBody,
        signature,
        this.options.webhookSecret,
        this.options.webhookToleranceSeconds,
      );
    } catch (err) {
      throw new WebhookRejectedError(err instanceof Error ? err.message : 'invalid signature');
    }
    const base = { id: event.id, type: event.type };
    if (PAYMENT_EVENTS.has(event.type)) {
      return { ...base, kind: 'payment', state: toState(event.data.object as Stripe.PaymentIntent) };
    }
    if (event.type === 'charge.refunded') {
      const charge = event.data.object;
      const pi =
        typeof charge.payment_intent === 'string' ? charge.payment_intent : charge.payment_intent?.id;
      if (!pi) return { ...base, kind: 'ignored' };
      return { ...base, kind: 'refunded', paymentReference: pi, refundedAmount: charge.amount_refunded };
    }
    if (
      event.type === 'refund.created' ||
      event.type === 'refund.updated' ||
      event.type === 'refund.failed'
    ) {
      const refund = event.data.object;
      const pi =
        typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
      if (!pi) return { ...base, kind: 'ignored' };
      return { ...base, kind: 'refund', paymentReference: pi, refund: toRefund(refund) };
    }
    return { ...base, kind: 'ignored' };
  }
}

/** The PaymentIntent events that carry a state ShopFlow acts on. */
const PAYMENT_EVENTS = new Set<string>([
  'payment_intent.succeeded',
  'payment_intent.payment_failed',
  'payment_intent.canceled',
  'payment_intent.processing',
  'payment_intent.requires_action',
]);

function toState(pi: Stripe.PaymentIntent): PaymentState {
  const base = {
    reference: pi.id,
    currency: pi.currency.toUpperCase(),
    ...(pi.metadata?.attemptId ? { attemptId: pi.metadata.attemptId } : {}),
    ...(pi.metadata?.orderId ? { orderId: pi.metadata.orderId } : {}),
  };
  const error = pi.last_payment_error;
  switch (pi.status) {
    case 'succeeded':
      return { ...base, status: 'succeeded', amount: pi.amount_received };
    case 'canceled':
      return { ...base, status: 'failed', amount: pi.amount, reason: pi.cancellation_reason ?? 'canceled' };
    case 'requires_payment_method':
      // A refused attempt (or an expired PIX/boleto): the intent waits for another method we never send.
      return {
        ...base,
        status: 'failed',
        amount: pi.amount,
        reason: error?.decline_code ?? error?.code ?? 'requires_payment_method',
      };
    case 'requires_action': {
      const next = pi.next_action;
      if (next?.pix_display_qr_code) {
        const pix = next.pix_display_qr_code;
        return {
          ...base,
          status: 'pending',
          amount: pi.amount,
          nextAction: {
            type: 'pix',
            code: pix.data ?? '',
            qrCodeUrl: pix.image_url_png ?? null,
            expiresAt: iso(pix.expires_at ?? 0),
          },
        };
      }
      if (next?.boleto_display_details) {
        const boleto = next.boleto_display_details;
        return {
          ...base,
          status: 'pending',
          amount: pi.amount,
          nextAction: {
            type: 'boleto',
            number: boleto.number ?? null,
            voucherUrl: boleto.hosted_voucher_url ?? '',
            pdfUrl: boleto.pdf ?? null,
            expiresAt: iso(boleto.expires_at ?? 0),
          },
        };
      }
      return {
        ...base,
        status: 'pending',
        amount: pi.amount,
        ...(pi.client_secret
          ? { nextAction: { type: 'card_authentication', clientSecret: pi.client_secret } }
          : {}),
      };
    }
    case 'processing':
    case 'requires_confirmation':
    case 'requires_capture':
      // Money not settled yet.
      return { ...base, status: 'pending', amount: pi.amount };
  }
  // A status newer than this SDK: not settled as far as we can tell; reconciliation asks again.
  return { ...base, status: 'pending', amount: pi.amount };
}

function toRefund(refund: Stripe.Refund): RefundState {
  const status =
    refund.status === 'succeeded'
      ? 'succeeded'
      : refund.status === 'failed' || refund.status === 'canceled'
        ? 'failed'
        : 'pending';
  const refundId = refund.metadata?.refundId;
  return {
    reference: refund.id,
    status,
    ...(refundId ? { refundId } : {}),
    ...(status === 'failed' ? { reason: refund.failure_reason ?? refund.status ?? 'failed' } : {}),
  };
}

/** A definite refusal (card declined, a bad PaymentMethod) is a failed state; the rest is unknown. */
function refusal(err: unknown): PaymentState {
  if (
    err instanceof Stripe.errors.StripeCardError ||
    err instanceof Stripe.errors.StripeInvalidRequestError
  ) {
    const pi = (err.raw as { payment_intent?: Stripe.PaymentIntent } | undefined)?.payment_intent;
    return {
      reference: pi?.id ?? '',
      status: 'failed',
      amount: pi?.amount ?? 0,
      currency: (pi?.currency ?? '').toUpperCase(),
      reason: err.decline_code ?? err.code ?? err.type,
    };
  }
  throw unavailable(err);
}

function unavailable(err: unknown): ProviderUnavailableError {
  const detail = err instanceof Stripe.errors.StripeError ? `${err.type}: ${err.message}` : String(err);
  return new ProviderUnavailableError(`Stripe did not answer: ${detail}`, { cause: err });
}
