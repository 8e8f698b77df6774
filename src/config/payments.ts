/**
 * Who charges customers (test, Stripe, Mercado Pago, none), by which methods, in how many
 * installments, and how long payments may take.
 */
import { z } from 'zod';
import { bool, ConfigError, int, type EnvOf } from './kit.ts';

export const paymentsEnv = {
  PAYMENT_PROVIDER: z.enum(['test', 'stripe', 'mercadopago', 'none']).optional(),
  PAYMENT_METHODS: z
    .string()
    .regex(/^(card|pix|boleto)(,(card|pix|boleto))*$/, 'a comma-separated list of card, pix, boleto')
    .default('card,pix,boleto'),
  PIX_EXPIRY_MINUTES: int(1, 1440).default(30),
  BOLETO_EXPIRY_DAYS: int(1, 60).default(3),
  BOLETO_CLEARING_DAYS: int(0, 10).default(2),
  PAYMENT_RECONCILE_AFTER_MINUTES: int(1, 1440).default(5),
  PAYMENT_MAX_ATTEMPTS_PER_ORDER: int(1, 100).default(5),
  BOLETO_GUESTS: bool.default(true),
  MAX_PENDING_BOLETOS_PER_DOCUMENT: int(0, 10_000_000).default(3),
  MAX_PENDING_BOLETO_UNITS_PER_DOCUMENT: int(0, 100_000_000).default(300),
  MAX_PENDING_BOLETOS_PER_ADDRESS: int(0, 10_000_000).default(10),
  MAX_PENDING_BOLETO_UNITS_PER_ADDRESS: int(0, 100_000_000).default(1000),
  STRIPE_SECRET_KEY: z
    .string()
    .regex(
      /^(sk|rk)_(test|live)_[A-Za-z0-9_]+$/,
      'a Stripe secret or restricted key (sk_test_..., sk_live_...)',
    )
    .optional(),
  STRIPE_WEBHOOK_SECRET: z
    .string()
    .regex(/^whsec_[A-Za-z0-9_+/=]+$/, 'a Stripe endpoint secret (whsec_...)')
    .optional(),
  STRIPE_WEBHOOK_TOLERANCE_SECONDS: int(10, 3600).default(300),
  STRIPE_API_HOST: z.string().min(1).max(255).optional(),
  STRIPE_API_PORT: int(1, 65535).optional(),
  STRIPE_API_PROTOCOL: z.enum(['http', 'https']).optional(),
  MERCADOPAGO_ACCESS_TOKEN: z
    .string()
    .regex(/^(TEST|APP_USR)-[A-Za-z0-9-]{8,300}$/, 'a Mercado Pago access token (APP_USR-... or TEST-...)')
    .optional(),
  MERCADOPAGO_WEBHOOK_SECRET: z
    .string()
    .regex(
      /^[A-Za-z0-9_-]{16,256}$/,
      'the secret signature of the Mercado Pago webhook (16 to 256 characters)',
    )
    .optional(),
  MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS: int(10, 3600).default(300),
  MERCADOPAGO_API_BASE_URL: z
    .url({ protocol: /^https?$/ })
    .max(255)
    .optional(),
  INSTALLMENTS_MAX: int(1, 24).default(12),
  INSTALLMENTS_MIN_AMOUNT: int(0, 100_000_000).default(500),
  INSTALLMENTS_INTEREST_FREE: int(1, 24).default(3),
  INSTALLMENTS_MONTHLY_RATE: z
    .string()
    .regex(/^\d{1,2}(\.\d{1,4})?$/, 'a monthly interest rate in percent (1.99 is 1.99% a month)')
    .default('0'),
};

export type PaymentMethod = 'card' | 'pix' | 'boleto';

/** The store's installment rule for card payments (parcelamento; the payments module's InstallmentsRule). */
export interface InstallmentsRule {
  /** The most installments offered. */
  max: number;
  /** The smallest installment offered, centavos (a plan with a smaller one is not offered). */
  minAmount: number;
  /** Plans up to this many installments carry no interest (the store absorbs it). */
  interestFree: number;
  /** Monthly interest of longer plans, in basis points (199 is 1.99% a month). */
  monthlyRateBp: number;
}

export interface PaymentsConfig {
  provider: 'test' | 'stripe' | 'mercadopago' | 'none';
  installments: InstallmentsRule;
  /** The methods offered to payers (a provider may support fewer). */
  methods: PaymentMethod[];
  /** How long a PIX code can be paid; how many days a boleto, and the days it takes to clear. */
  pixExpiryMinutes: number;
  boletoExpiryDays: number;
  boletoClearingDays: number;
  /** Pending attempts older than this are settled by asking the provider. */
  reconcileAfterMinutes: number;
  /** Attempts one order may have (card testing: a real payer needs a few). */
  maxAttemptsPerOrder: number;
  /**
   * Boletos hold stock for days: whether guests may use them, and the pending boletos (orders and
   * units) one payer document (CPF/CNPJ) and one address may hold at once (0: no limit).
   */
  boleto: {
    guests: boolean;
    perDocument: { orders: number; units: number };
    perAddress: { orders: number; units: number };
  };
  stripe?: {
    secretKey: string;
    webhookSecret: string;
    webhookToleranceSeconds: number;
    /** A stand-in for api.stripe.com (a local recording endpoint in tests, a Stripe mock). */
    api?: { host?: string; port?: number; protocol?: 'http' | 'https' };
  };
  mercadopago?: {
    accessToken: string;
    webhookSecret: string;
    webhookToleranceSeconds: number;
    /** A stand-in for https://api.mercadopago.com (the tests' recording endpoint). */
    baseUrl?: string;
  };
}

type PaymentsEnv = EnvOf<typeof paymentsEnv>;

/**
 * The provider in force. The test provider confirms any order without money: the default only
 * on the embedded database outside production, never next to a real database.
 */
export const paymentProviderOf = (e: PaymentsEnv, where: { embedded: boolean; production: boolean }) =>
  e.PAYMENT_PROVIDER ?? (where.embedded && !where.production ? 'test' : 'none');

export function paymentsConfig(
  e: PaymentsEnv,
  where: { embedded: boolean; production: boolean },
): { payments: PaymentsConfig } {
  const provider = paymentProviderOf(e, where);
  if (provider === 'stripe' && (!e.STRIPE_SECRET_KEY || !e.STRIPE_WEBHOOK_SECRET))
    throw new ConfigError([
      'PAYMENT_PROVIDER=stripe needs STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (the endpoint secret of /webhooks/stripe)',
    ]);
  if (provider === 'mercadopago' && (!e.MERCADOPAGO_ACCESS_TOKEN || !e.MERCADOPAGO_WEBHOOK_SECRET))
    throw new ConfigError([
      'PAYMENT_PROVIDER=mercadopago needs MERCADOPAGO_ACCESS_TOKEN and MERCADOPAGO_WEBHOOK_SECRET (the secret signature of /webhooks/mercadopago)',
    ]);
  if (where.production && e.MERCADOPAGO_ACCESS_TOKEN?.startsWith('TEST-'))
    throw new ConfigError([
      'MERCADOPAGO_ACCESS_TOKEN is a sandbox token (TEST-...): no money moves; refused with NODE_ENV=production',
    ]);
  if (where.production && e.MERCADOPAGO_API_BASE_URL && provider === 'mercadopago')
    throw new ConfigError([
      'MERCADOPAGO_API_BASE_URL sends payments away from Mercado Pago (it is for tests): refused with NODE_ENV=production',
    ]);
  if (e.INSTALLMENTS_INTEREST_FREE > e.INSTALLMENTS_MAX)
    throw new ConfigError(['INSTALLMENTS_INTEREST_FREE cannot be more than INSTALLMENTS_MAX']);
  if (where.production && e.STRIPE_SECRET_KEY?.includes('_test_'))
    throw new ConfigError([
      'STRIPE_SECRET_KEY is a test-mode key: no money moves; refused with NODE_ENV=production',
    ]);
  const api = {
    ...(e.STRIPE_API_HOST ? { host: e.STRIPE_API_HOST } : {}),
    ...(e.STRIPE_API_PORT ? { port: e.STRIPE_API_PORT } : {}),
    ...(e.STRIPE_API_PROTOCOL ? { protocol: e.STRIPE_API_PROTOCOL } : {}),
  };
  return {
    payments: {
      provider,
      methods: [...new Set(e.PAYMENT_METHODS.split(','))] as PaymentMethod[],
      installments: {
        max: e.INSTALLMENTS_MAX,
        minAmount: e.INSTALLMENTS_MIN_AMOUNT,
        interestFree: e.INSTALLMENTS_INTEREST_FREE,
        monthlyRateBp: Math.round(Number(e.INSTALLMENTS_MONTHLY_RATE) * 100),
      },
      pixExpiryMinutes: e.PIX_EXPIRY_MINUTES,
      boletoExpiryDays: e.BOLETO_EXPIRY_DAYS,
      boletoClearingDays: e.BOLETO_CLEARING_DAYS,
      reconcileAfterMinutes: e.PAYMENT_RECONCILE_AFTER_MINUTES,
      maxAttemptsPerOrder: e.PAYMENT_MAX_ATTEMPTS_PER_ORDER,
      boleto: {
        guests: e.BOLETO_GUESTS,
        perDocument: {
          orders: e.MAX_PENDING_BOLETOS_PER_DOCUMENT,
          units: e.MAX_PENDING_BOLETO_UNITS_PER_DOCUMENT,
        },
        perAddress: {
          orders: e.MAX_PENDING_BOLETOS_PER_ADDRESS,
          units: e.MAX_PENDING_BOLETO_UNITS_PER_ADDRESS,
        },
      },
      ...(provider === 'stripe'
        ? {
            stripe: {
              secretKey: e.STRIPE_SECRET_KEY!,
              webhookSecret: e.STRIPE_WEBHOOK_SECRET!,
              webhookToleranceSeconds: e.STRIPE_WEBHOOK_TOLERANCE_SECONDS,
              ...(Object.keys(api).length ? { api } : {}),
            },
          }
        : {}),
      ...(provider === 'mercadopago'
        ? {
            mercadopago: {
              accessToken: e.MERCADOPAGO_ACCESS_TOKEN!,
              webhookSecret: e.MERCADOPAGO_WEBHOOK_SECRET!,
              webhookToleranceSeconds: e.MERCADOPAGO_WEBHOOK_TOLERANCE_SECONDS,
              ...(e.MERCADOPAGO_API_BASE_URL
                ? { baseUrl: e.MERCADOPAGO_API_BASE_URL.replace(/\/+$/, '') }
                : {}),
            },
          }
        : {}),
    },
  };
}
