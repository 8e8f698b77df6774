/**
 * Mercado Pago behind the payment port, through its official Node SDK (`mercadopago`): card
 * payments with a token made by Mercado Pago's browser SDK, in installments; PIX (QR code and
 * copy-paste code); boleto (digitable line and PDF). Every write carries an `X-Idempotency-Key`
 * (the attempt id for a payment, the refund's key for a refund). Webhook notifications are
 * verified as Mercado Pago documents (`x-signature`: HMAC-SHA256 of the manifest
 * `id:<data.id>;request-id:<x-request-id>;ts:<ts>;` with the secret signature) and carry no
 * state: the payment is read back from the API.
 *
 * Money: the port speaks integer centavos, Mercado Pago decimal reais (`transaction_amount:
 * 129.9`); {@link reais} and {@link centavos} convert at the edge only.
 *
 * Base URL: the SDK sends every request to `AppConfig.BASE_URL` (a static of its RestClient, one
 * per process; the SDK's options take no base URL). `baseUrl` sets it (the tests' recording
 * endpoint); without it the SDK's own https://api.mercadopago.com is put back.
 */
import {
  MercadoPagoConfig,
  MercadoPagoError,
  Payment,
  PaymentRefund,
  WebhookSignatureValidator,
  InvalidWebhookSignatureError,
} from 'mercadopago';
import type { PaymentResponse } from 'mercadopago/dist/clients/payment/commonTypes.js';
import type { RefundResponse } from 'mercadopago/dist/clients/paymentRefund/commonTypes.js';
// The SDK's own static settings (its base URL), not ShopFlow's configuration.
// eslint-disable-next-line no-restricted-imports
import { AppConfig } from 'mercadopago/dist/utils/config/index.js';
import { RestClient } from 'mercadopago/dist/utils/restClient/index.js';
import { isUuid } from '../../platform/ids.ts';
import {
  ProviderUnavailableError,
  WebhookRejectedError,
  type Payer,
  type PaymentMethod,
  type PaymentProvider,
  type PaymentRequest,
  type PaymentState,
  type ProviderEvent,
  type RefundRequest,
  type RefundState,
} from './payment-provider.ts';

export interface MercadoPagoProviderOptions {
  accessToken: string;
  webhookSecret: string;
  webhookToleranceSeconds: number;
  methods: readonly PaymentMethod[];
  /** A stand-in for https://api.mercadopago.com (tests). */
  baseUrl?: string;
}

export const MERCADOPAGO_API = 'https://api.mercadopago.com';

/** Centavos to the decimal reais Mercado Pago takes (12990 -> 129.9). */
export const reais = (c: number) => Number((c / 100).toFixed(2));
/** Decimal reais from Mercado Pago to centavos (129.9 -> 12990). */
export const centavos = (r: number | undefined) => Math.round((r ?? 0) * 100);

/** Mercado Pago's date format: ISO 8601 with an explicit offset. */
const mpDate = (d: Date) => d.toISOString().replace('Z', '+00:00');

/** A document of 11 characters is a CPF, of 14 a CNPJ (digits, or the alphanumeric CNPJ of 2026). */
const identification = (taxId: string) => ({ type: taxId.length === 11 ? 'CPF' : 'CNPJ', number: taxId });

export class MercadoPagoPaymentProvider implements PaymentProvider {
  readonly name = 'mercadopago';
  readonly enabled = true;
  readonly installments = true;
  readonly methods: readonly PaymentMethod[];
  /**
   * What the payer must give, by method, checked before anything is written: Mercado Pago wants
   * the payer's e-mail and document with a card, and registers a boleto with the full address.
   */
  readonly requiredPayerFields: Partial<Record<PaymentMethod, readonly string[]>> = {
    card: ['email', 'taxId'],
    pix: ['email'],
    boleto: ['name', 'email', 'taxId', 'address', 'address.number', 'address.district'],
  };

  constructor(private readonly options: MercadoPagoProviderOptions) {
    this.methods = options.methods;
    (AppConfig as { BASE_URL: string }).BASE_URL = options.baseUrl ?? MERCADOPAGO_API;
  }

  /**
   * A fresh SDK configuration per call: the SDK's clients merge each call's request options into
   * the configuration they were given, so a shared one would carry one call's idempotency key
   * into the next.
   */
  private config(idempotencyKey?: string): MercadoPagoConfig {
    return new MercadoPagoConfig({
      accessToken: this.options.accessToken,
      options: {
        timeout: 20_000,
        // The SDK retries network failures, 429 and 5xx itself, with the same idempotency key.
        maxRetries: 2,
        initialDelay: 200,
        maxDelay: 2_000,
        ...(idempotencyKey ? { idempotencyKey } : {}),
      },
    });
  }

  async installmentCounts(
    amount: number,
    card: { paymentMethodId: string; issuerId?: string },
  ): Promise<number[] | undefined> {
    try {
      const options = await RestClient.fetch<{ payer_costs?: { installments?: number }[] }[]>(
        '/v1/payment_methods/installments',
        {
          headers: { Authorization: `Bearer ${this.options.accessToken}` },
          queryParams: {
            amount: reais(amount),
            payment_method_id: card.paymentMethodId,
            ...(card.issuerId ? { 'issuer.id': card.issuerId } : {}),
          },
          maxRetries: 2,
          initialDelay: 200,
          timeout: 10_000,
        },
      );
      const counts = new Set<number>();
      for (const o of Array.isArray(options) ? options : [])
        for (const c of o.payer_costs ?? [])
          if (Number.isInteger(c.installments)) counts.add(c.installments!);
      return [...counts].sort((a, b) => a - b);
    } catch (err) {
      // An unknown card brand or issuer: no installments for it (one payment only).
      if (err instanceof MercadoPagoError && err.status >= 400 && err.status < 500 && err.status !== 401)
        return [1];
      throw unavailable(err);
    }
  }

  async createPayment(request: PaymentRequest): Promise<PaymentState> {
    const body: Record<string, unknown> = {
      transaction_amount: reais(request.amount),
      description: `Order ${request.orderId}`,
      external_reference: request.attemptId,
      metadata: { order_id: request.orderId, attempt_id: request.attemptId },
      ...(request.payer ? { payer: payerOf(request.payer, request.method) } : {}),
    };
    if (request.method === 'card') {
      body.token = request.token;
      body.installments = request.installments ?? 1;
      if (request.paymentMethodId) body.payment_method_id = request.paymentMethodId;
      if (request.issuerId) body.issuer_id = Number(request.issuerId);
    } else {
      body.payment_method_id = request.method === 'pix' ? 'pix' : 'bolbradesco';
      if (request.expiresAt) body.date_of_expiration = mpDate(request.expiresAt);
    }
    try {
      const payment = await new Payment(this.config(request.attemptId)).create({
        body,
      });
      const state = toState(payment);
      // Mercado Pago answers the expiry it was asked for; if it left it out, that one holds.
      if (
        state.nextAction &&
        'expiresAt' in state.nextAction &&
        !state.nextAction.expiresAt &&
        request.expiresAt
      )
        state.nextAction.expiresAt = request.expiresAt.toISOString();
      return state;
    } catch (err) {
      return refusal(err, request);
    }
  }

  async retrieve(reference: string): Promise<PaymentState> {
    try {
      return toState(await new Payment(this.config()).get({ id: reference }));
    } catch (err) {
      throw unavailable(err);
    }
  }

  async findByAttempt(attemptId: string): Promise<PaymentState | undefined> {
    if (!isUuid(attemptId)) return undefined;
    try {
      const found = await new Payment(this.config()).search({
        options: { external_reference: attemptId, sort: 'date_created', criteria: 'desc', limit: 1 },
      });
      const first = found.results?.[0];
      return first ? toState(first as PaymentResponse) : undefined;
    } catch (err) {
      throw unavailable(err);
    }
  }

  async cancel(reference: string): Promise<PaymentState> {
    try {
      return toState(await new Payment(this.config()).cancel({ id: reference }));
    } catch (err) {
      // Approved, or already cancelled: the state is what it is.
      if (err instanceof MercadoPagoError && err.status >= 400 && err.status < 500 && err.status !== 401)
        return this.retrieve(reference);
      throw unavailable(err);
    }
  }

  async refund(request: RefundRequest): Promise<RefundState> {
    try {
      const refund = await new PaymentRefund(this.config(request.idempotencyKey)).create({
        payment_id: request.reference,
        body: { amount: reais(request.amount) },
      });
      return toRefund(refund);
    } catch (err) {
      if (err instanceof MercadoPagoError && err.status >= 400 && err.status < 500 && err.status !== 401)
        return { reference: '', status: 'failed', reason: causeOf(err) };
      throw unavailable(err);
    }
  }

  parseWebhook(
    rawBody: Buffer,
    headers: Record<string, string | string[] | undefined>,
    query: Record<string, unknown> = {},
  ): ProviderEvent {
    const header = (name: string) => {
      const v = headers[name];
      return typeof v === 'string' ? v : Array.isArray(v) ? v[0] : undefined;
    };
    const requestId = header('x-request-id');
    if (!header('x-signature')) throw new WebhookRejectedError('no x-signature header');
    if (!requestId) throw new WebhookRejectedError('no x-request-id header');
    let body: { id?: unknown; type?: unknown; topic?: unknown; action?: unknown; data?: { id?: unknown } };
    try {
      body = JSON.parse(rawBody.toString('utf8')) as typeof body;
      if (typeof body !== 'object' || body === null) throw new Error('not an object');
    } catch {
      throw new WebhookRejectedError('the body is not a JSON object');
    }
    const scalar = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : undefined);
    const fromQuery = scalar(query['data.id']);
    const fromBody = scalar(body.data?.id);
    const dataId = fromQuery ?? fromBody ?? '';
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(dataId)) throw new WebhookRejectedError('no valid data.id');
    // The signature covers data.id from the URL: a body naming another resource is not the one signed.
    if (fromBody !== undefined && fromBody !== dataId)
      throw new WebhookRejectedError('data.id differs between the URL and the body');
    try {
      WebhookSignatureValidator.validate({
        xSignature: header('x-signature'),
        xRequestId: requestId,
        // Mercado Pago documents alphanumeric ids as lower case in the manifest.
        dataId: dataId.toLowerCase(),
        secret: this.options.webhookSecret,
      });
    } catch (err) {
      if (err instanceof InvalidWebhookSignatureError) throw new WebhookRejectedError(err.reason);
      throw err;
    }
    const ts = Number(/(?:^|,)\s*ts=(\d+)/.exec(header('x-signature')!)![1]);
    // Seconds, as documented; milliseconds as some deliveries carry them.
    const at = ts > 1e12 ? ts : ts * 1000;
    if (Math.abs(Date.now() - at) > this.options.webhookToleranceSeconds * 1000)
      throw new WebhookRejectedError('the signature timestamp is outside the tolerance window');
    const type = scalar(query.type) ?? scalar(body.type) ?? scalar(body.topic) ?? '';
    const id =
      typeof body.id === 'string' || typeof body.id === 'number'
        ? `notification:${body.id}`
        : `request:${requestId}`;
    const action = typeof body.action === 'string' ? body.action.slice(0, 60) : type.slice(0, 60);
    if (type !== 'payment') return { id, type: action || 'unknown', kind: 'ignored' };
    return { id, type: action || 'payment', kind: 'lookup', paymentReference: dataId };
  }
}

function payerOf(payer: Payer, method: PaymentMethod): Record<string, unknown> {
  const [first, ...rest] = payer.name?.trim().split(/\s+/) ?? [];
  return {
    email: payer.email,
    ...(payer.taxId ? { identification: identification(payer.taxId) } : {}),
    ...(first ? { first_name: first, last_name: rest.join(' ') || first } : {}),
    ...(method === 'boleto' && payer.address
      ? {
          address: {
            zip_code: payer.address.postalCode.replace('-', ''),
            street_name: payer.address.line1,
            street_number: payer.address.number ?? '',
            neighborhood: payer.address.district ?? '',
            city: payer.address.city,
            federal_unit: payer.address.state,
          },
        }
      : {}),
  };
}

function toState(p: PaymentResponse): PaymentState {
  const metadata = (p.metadata ?? {}) as { order_id?: unknown };
  const base = {
    reference: String(p.id),
    currency: (p.currency_id ?? 'BRL').toUpperCase(),
    amount: centavos(p.transaction_amount),
    ...(p.external_reference ? { attemptId: p.external_reference } : {}),
    ...(typeof metadata.order_id === 'string' ? { orderId: metadata.order_id } : {}),
  };
  const refunded = centavos(p.transaction_amount_refunded);
  const status: string = p.status ?? 'pending';
  switch (status) {
    case 'approved':
      return { ...base, status: 'succeeded', ...(refunded > 0 ? { refundedAmount: refunded } : {}) };
    case 'refunded':
      return { ...base, status: 'succeeded', refundedAmount: refunded || base.amount };
    case 'in_mediation':
    case 'charged_back':
      return {
        ...base,
        status: 'succeeded',
        dispute: p.status,
        ...(refunded > 0 ? { refundedAmount: refunded } : {}),
      };
    case 'rejected':
      return { ...base, status: 'failed', reason: p.status_detail ?? 'rejected' };
    case 'cancelled':
      return { ...base, status: 'failed', reason: 'canceled' };
    default: {
      // pending, in_process, authorized, or a status newer than this adapter: not settled.
      const data = p.point_of_interaction?.transaction_data;
      const expiresAt = p.date_of_expiration ? new Date(p.date_of_expiration).toISOString() : '';
      if (p.payment_method_id === 'pix' && data?.qr_code)
        return {
          ...base,
          status: 'pending',
          nextAction: {
            type: 'pix',
            code: data.qr_code,
            qrCodeUrl: data.ticket_url ?? null,
            qrCodeBase64: data.qr_code_base64 ?? null,
            expiresAt,
          },
        };
      const details = p.transaction_details;
      if (p.payment_type_id === 'ticket' && details?.external_resource_url)
        return {
          ...base,
          status: 'pending',
          nextAction: {
            type: 'boleto',
            number: details.digitable_line ?? details.barcode?.content ?? null,
            voucherUrl: details.external_resource_url,
            pdfUrl: details.external_resource_url,
            expiresAt,
          },
        };
      return { ...base, status: 'pending' };
    }
  }
}

function toRefund(r: RefundResponse): RefundState {
  const status =
    r.status === 'approved'
      ? 'succeeded'
      : r.status === 'rejected' || r.status === 'cancelled'
        ? 'failed'
        : 'pending';
  return {
    reference: String(r.id),
    status,
    ...(status === 'failed' ? { reason: r.status ?? 'failed' } : {}),
  };
}

/** The cause Mercado Pago names for a refusal (its first cause's code, else its error). */
function causeOf(err: MercadoPagoError): string {
  const cause = err.causes[0] as { code?: unknown } | undefined;
  const code =
    typeof cause?.code === 'string' || typeof cause?.code === 'number'
      ? String(cause.code)
      : err.error || `http_${err.status}`;
  return code.replace(/[^A-Za-z0-9_]/g, '_').slice(0, 60) || 'refused';
}

/** A definite refusal (4xx: a bad token, a card refused) is a failed state; the rest is unknown. */
function refusal(err: unknown, request: PaymentRequest): PaymentState {
  if (
    err instanceof MercadoPagoError &&
    err.status >= 400 &&
    err.status < 500 &&
    ![401, 409, 423, 429].includes(err.status)
  )
    return {
      reference: '',
      status: 'failed',
      amount: request.amount,
      currency: request.currency.toUpperCase(),
      reason: causeOf(err),
    };
  throw unavailable(err);
}

function unavailable(err: unknown): ProviderUnavailableError {
  const detail = err instanceof MercadoPagoError ? `${err.status} ${err.error}: ${err.message}` : String(err);
  return new ProviderUnavailableError(`Mercado Pago did not answer: ${detail}`, { cause: err });
}
