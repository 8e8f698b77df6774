/** Who charges customers (test, Stripe, none), by which methods, and how long payments may take. */
import { z } from 'zod';
import { bool, ConfigError, int, type EnvOf } from './kit.ts';

export const paymentsEnv = {
  PAYMENT_PROVIDER: z.enum(['test', 'stripe', 'none']).optional(),
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
};

export type PaymentMethod = 'card' | 'pix' | 'boleto';

export interface PaymentsConfig {
  provider: 'test' | 'stripe' | 'none';
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
    },
  };
}
