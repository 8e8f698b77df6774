import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
// The two validators only (the package's index loads every utility and its data tables).
import { isValidCnpj } from '@brazilian-utils/brazilian-utils/is-valid-cnpj';
import { isValidCpf } from '@brazilian-utils/brazilian-utils/is-valid-cpf';
import { IdParams, LimitSchema } from '../../http/schemas.ts';
import { clientAddress } from '../../http/client-address.ts';
import type { SessionHelpers } from '../../http/session.ts';
import { AppError } from '../../platform/errors.ts';
import { OrderSchema } from '../orders/orders.schemas.ts';
import { ownerOf } from '../orders/orders.service.ts';
import type { PaymentsService } from './payments.service.ts';

const NextActionSchema = z
  .discriminatedUnion('type', [
    z.object({
      type: z.literal('pix'),
      code: z.string().describe('The PIX copy-paste code (copia e cola)'),
      qrCodeUrl: z.string().nullable(),
      qrCodeBase64: z.string().nullable().optional().describe('The QR code as a base64 PNG (Mercado Pago)'),
      expiresAt: z.string(),
    }),
    z.object({
      type: z.literal('boleto'),
      number: z.string().nullable(),
      voucherUrl: z.string(),
      pdfUrl: z.string().nullable(),
      expiresAt: z.string(),
    }),
    z.object({ type: z.literal('card_authentication'), clientSecret: z.string() }),
  ])
  .meta({ id: 'PaymentNextAction' });

export const InstallmentPlanSchema = z
  .object({
    count: z.number().int(),
    amount: z
      .number()
      .int()
      .describe('The largest installment, centavos (the first ones carry the odd centavos)'),
    total: z.number().int().describe('What the payer pays in all, centavos: the amount charged'),
    interestFree: z.boolean(),
  })
  .meta({ id: 'InstallmentPlan' });

const AttemptSchema = z
  .object({
    id: z.uuid(),
    orderId: z.uuid(),
    provider: z.string(),
    providerReference: z.string().nullable(),
    status: z.enum(['pending', 'succeeded', 'failed', 'refund_required', 'refunded']),
    method: z.enum(['card', 'pix', 'boleto']),
    amount: z.number().int(),
    refundedAmount: z.number().int(),
    currency: z.string(),
    failureReason: z.string().nullable(),
    attentionReason: z.string().nullable(),
    nextAction: NextActionSchema.nullable(),
    expiresAt: z.string().nullable(),
    installments: InstallmentPlanSchema.nullable(),
    createdAt: z.string(),
  })
  .meta({ id: 'PaymentAttempt' });

const RefundSchema = z
  .object({
    id: z.uuid(),
    amount: z.number().int(),
    status: z.enum(['pending', 'succeeded', 'failed']),
    reason: z.string(),
    providerReference: z.string().nullable(),
    failureReason: z.string().nullable(),
    items: z
      .array(z.object({ orderItemId: z.uuid(), quantity: z.number().int() }))
      .nullable()
      .describe('The order lines (and units) it gave back, when it was a refund of lines'),
    createdAt: z.string(),
  })
  .meta({ id: 'PaymentRefund' });

const text = (max: number) => z.string().trim().min(1).max(max);
const PayerSchema = z
  .object({
    name: text(120).optional(),
    email: z.email().max(254),
    // A valid CPF (11 digits) or CNPJ (14 characters: digits, or letters and digits in the
    // alphanumeric CNPJ issued from July 2026), check digits included; kept without its mask.
    taxId: z
      .string()
      .max(32)
      .transform((v) => v.replace(/[.\-/\s]/g, '').toUpperCase())
      .pipe(
        z
          .string()
          .refine(
            (v) => (v.length === 11 && isValidCpf(v)) || (v.length === 14 && isValidCnpj(v, { version: 2 })),
            'a valid CPF (11 digits) or CNPJ (14 characters), check digits included',
          ),
      )
      .optional(),
    address: z
      .object({
        line1: text(200),
        number: text(20).optional(),
        district: text(100).optional(),
        city: text(100),
        state: z.string().regex(/^[A-Z]{2}$/, 'a two-letter state code (SP, RJ...)'),
        postalCode: z.string().regex(/^\d{5}-?\d{3}$/, 'a CEP (00000-000)'),
        country: z.literal('BR'),
      })
      .strict()
      .optional(),
  })
  .strict();

/**
 * Card (the default): the provider's token for it (`token`, or `paymentMethod` as Stripe.js names
 * it), with Mercado Pago the brand and issuer its CardForm answered, and the installments chosen.
 * PIX: nothing more (Mercado Pago: the payer's e-mail). Boleto: who pays.
 */
const PayBody = z
  .object({
    method: z.enum(['card', 'pix', 'boleto']).default('card'),
    paymentMethod: z.string().min(1).max(255).optional(),
    token: z
      .string()
      .regex(/^[A-Za-z0-9_-]{1,255}$/, 'a card token')
      .optional(),
    paymentMethodId: z
      .string()
      .regex(/^[a-z0-9_]{1,40}$/, 'a card brand id (visa, master...)')
      .optional(),
    issuerId: z
      .string()
      .regex(/^\d{1,12}$/, 'an issuer id (digits)')
      .optional(),
    installments: z.number().int().min(1).max(48).optional(),
    payer: PayerSchema.optional(),
  })
  .strict()
  .superRefine((b, ctx) => {
    if (b.method === 'card' && !b.paymentMethod && !b.token)
      ctx.addIssue({
        code: 'custom',
        path: ['token'],
        message: 'a card payment needs the card token',
      });
    if (b.method !== 'card' && (b.installments !== undefined || b.token || b.paymentMethod))
      ctx.addIssue({
        code: 'custom',
        path: [b.installments !== undefined ? 'installments' : 'token'],
        message: 'only a card payment takes a token and installments',
      });
    if (b.method === 'boleto' && !b.payer)
      ctx.addIssue({
        code: 'custom',
        path: ['payer'],
        message: 'a boleto needs the payer (name, email, CPF/CNPJ, address)',
      });
  });

export const paymentsStoreRoutes: FastifyPluginAsyncZod<{
  payments: PaymentsService;
  sessions: SessionHelpers;
}> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { payments, sessions }) => {
    app.post(
      '/store/orders/:id/payments',
      {
        schema: {
          tags: ['store'],
          summary:
            'Pay a pending order (card, PIX or boleto). 201: paid, the order is confirmed. 202: waiting for the payer (PIX code, boleto voucher or card authentication in attempt.nextAction). A refusal is 402 payment_failed with reason card_declined, whatever the provider said (the attempt is kept; its reason is in the admin view)',
          params: IdParams,
          body: PayBody,
          response: {
            201: z.object({ attempt: AttemptSchema, order: OrderSchema }),
            202: z.object({ attempt: AttemptSchema, order: OrderSchema }),
          },
        },
      },
      async (request, reply) => {
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Order', { orderId: request.params.id });
        const { method, paymentMethod, token, payer, installments, paymentMethodId, issuerId } = request.body;
        const cardToken = token ?? paymentMethod;
        const result = await payments.pay(
          ownerOf(s),
          request.params.id,
          {
            method,
            ...(cardToken ? { token: cardToken } : {}),
            ...(payer ? { payer } : {}),
            ...(installments !== undefined ? { installments } : {}),
            ...(paymentMethodId ? { paymentMethodId } : {}),
            ...(issuerId ? { issuerId } : {}),
          },
          clientAddress(request),
        );
        if (result.attempt.status === 'failed') {
          // The provider's reason (incorrect_cvc, stolen_card...) tells a card tester which cards
          // work: it goes to the log and the admin view of the attempt, never to the payer.
          request.log.info(
            {
              orderId: result.attempt.orderId,
              attemptId: result.attempt.id,
              method: result.attempt.method,
              reason: result.attempt.failureReason,
            },
            'payment declined',
          );
          throw new AppError('payment_required', 'payment_failed', 'The payment was refused', {
            details: {
              attemptId: result.attempt.id,
              reason: result.attempt.method === 'card' ? 'card_declined' : 'payment_failed',
            },
          });
        }
        return reply.status(result.attempt.status === 'pending' ? 202 : 201).send(result);
      },
    );
    app.get(
      '/store/orders/:id/installments',
      {
        schema: {
          tags: ['store'],
          summary:
            "The installment plans for the caller's order (parcelamento): the store's rule (INSTALLMENTS_MAX, INSTALLMENTS_INTEREST_FREE, INSTALLMENTS_MONTHLY_RATE, INSTALLMENTS_MIN_AMOUNT), intersected with the provider's own for the card when paymentMethodId (and issuerId) are given. The payment charges the chosen plan's total",
          params: IdParams,
          querystring: z
            .object({
              paymentMethodId: z
                .string()
                .regex(/^[a-z0-9_]{1,40}$/, 'a card brand id (visa, master...)')
                .optional(),
              issuerId: z
                .string()
                .regex(/^\d{1,12}$/, 'an issuer id (digits)')
                .optional(),
            })
            .strict(),
          response: { 200: z.object({ options: z.array(InstallmentPlanSchema) }) },
        },
      },
      async (request) => {
        const s = await sessions.current(request);
        if (!s) throw AppError.notFound('Order', { orderId: request.params.id });
        const { paymentMethodId, issuerId } = request.query;
        return {
          options: await payments.installmentOptions(
            ownerOf(s),
            request.params.id,
            paymentMethodId ? { paymentMethodId, ...(issuerId ? { issuerId } : {}) } : undefined,
          ),
        };
      },
    );
  };

/** Largest webhook body accepted: Stripe's events and Mercado Pago's notifications are a few kilobytes. */
const WEBHOOK_BODY_LIMIT = 256 * 1024;

/**
 * `POST /webhooks/<provider>`: the raw body is kept (the signature covers its exact bytes), and
 * nothing touches the database before the signature and the timestamp are verified.
 */
export const paymentsWebhookRoutes: FastifyPluginAsyncZod<{ payments: PaymentsService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { payments }) => {
    app.removeAllContentTypeParsers();
    app.addContentTypeParser(
      '*',
      { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
      (_request, body, done) => done(null, body),
    );
    app.post(
      `/webhooks/${payments.providerName}`,
      {
        bodyLimit: WEBHOOK_BODY_LIMIT,
        schema: {
          tags: ['webhooks'],
          summary: `Payment provider events (${payments.providerName}): signed, each event applied once; 400 invalid_signature when the signature or its age does not verify`,
          response: {
            200: z.object({
              received: z.literal(true),
              duplicate: z.literal(true).optional(),
              ignored: z.literal(true).optional(),
            }),
          },
        },
      },
      async (request) => {
        const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
        return payments.handleWebhook(
          body,
          request.headers,
          (request.query ?? {}) as Record<string, unknown>,
        );
      },
    );
  };

const RefundHeaders = z
  .object({
    'idempotency-key': z.string().regex(/^[\x21-\x7e]{1,200}$/, '1 to 200 visible ASCII characters'),
  })
  .passthrough();

export const paymentsAdminRoutes: FastifyPluginAsyncZod<{ payments: PaymentsService }> =
  // eslint-disable-next-line @typescript-eslint/require-await
  async (app, { payments }) => {
    app.get(
      '/admin/orders/:id/payments',
      {
        schema: {
          tags: ['admin'],
          summary: "An order's payment attempts with the provider's references and their refunds",
          params: IdParams,
          response: {
            200: z.object({ items: z.array(AttemptSchema.extend({ refunds: z.array(RefundSchema) })) }),
          },
        },
      },
      async (request) => ({ items: await payments.list(request.params.id) }),
    );
    app.post(
      '/admin/orders/:id/refunds',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Refund a paid order through its provider: whole (no amount; a confirmed order is cancelled and its stock released), an amount, or units of its lines (what was paid for them: the price less the line discount, to the centavo). Idempotency-Key required: the same key and body answer the same refunds',
          params: IdParams,
          headers: RefundHeaders,
          body: z
            .object({
              amount: z.number().int().positive().max(2_147_483_647).optional(),
              items: z
                .array(
                  z.object({ orderItemId: z.uuid(), quantity: z.number().int().min(1).max(10_000) }).strict(),
                )
                .min(1)
                .max(100)
                .optional()
                .describe('Units of order lines to refund, instead of an amount'),
              reason: z
                .string()
                .regex(/^[a-z0-9_]{1,60}$/, 'lower-case letters, digits and _')
                .optional(),
            })
            .strict()
            .refine((b) => b.amount === undefined || b.items === undefined, {
              message: 'an amount or items, not both',
              path: ['items'],
            }),
          response: { 201: z.object({ refunds: z.array(RefundSchema) }) },
        },
      },
      async (request, reply) => {
        const refunds = await payments.refundOrder(
          request.params.id,
          {
            ...(request.body.amount !== undefined ? { amount: request.body.amount } : {}),
            ...(request.body.items ? { items: request.body.items } : {}),
            ...(request.body.reason ? { reason: request.body.reason } : {}),
          },
          request.headers['idempotency-key'],
        );
        return reply.status(201).send({ refunds });
      },
    );
    app.get(
      '/admin/payments/attention',
      {
        schema: {
          tags: ['admin'],
          summary:
            'Payments that need a person: money to give back that could not be refunded (refund_required), or a received amount that differs from the order (attentionReason)',
          querystring: z.object({ limit: LimitSchema }).strict(),
          response: { 200: z.object({ items: z.array(AttemptSchema) }) },
        },
      },
      async (request) => ({ items: await payments.attention(request.query.limit) }),
    );
  };
