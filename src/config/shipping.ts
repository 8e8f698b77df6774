/** Freight and CEP lookup: which engines quote, where their APIs are, what a package weighs. */
import { z } from 'zod';
import { ConfigError, int, type EnvOf } from './kit.ts';

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http:// or https:// URL')
  .transform((u) => u.replace(/\/+$/, ''));
const cep = z
  .string()
  .regex(/^\d{5}-?\d{3}$/, 'a CEP (8 digits)')
  .transform((v) => v.replace('-', ''));

export const shippingEnv = {
  SHIPPING_PROVIDER: z
    .string()
    .regex(/^(table|melhorenvio)(,(table|melhorenvio))*$/, 'table, melhorenvio, or both comma-separated')
    .default('table'),
  SHIPPING_ORIGIN_CEP: cep.optional(),
  SHIPPING_QUOTE_TTL_MINUTES: int(1, 1440).default(30),
  SHIPPING_QUOTES_PER_MINUTE: int(1, 100_000).default(60),
  SHIPPING_DEFAULT_WEIGHT_GRAMS: int(1, 100_000).default(500),
  SHIPPING_DEFAULT_LENGTH_CM: int(1, 200).default(20),
  SHIPPING_DEFAULT_WIDTH_CM: int(1, 200).default(15),
  SHIPPING_DEFAULT_HEIGHT_CM: int(1, 200).default(5),
  MELHOR_ENVIO_URL: httpUrl.default('https://www.melhorenvio.com.br'),
  MELHOR_ENVIO_TOKEN: z.string().min(20).max(4096).optional(),
  MELHOR_ENVIO_USER_AGENT: z.string().min(1).max(200).default('ShopFlow (suporte@example.com)'),
  MELHOR_ENVIO_TIMEOUT_MS: int(100, 30_000).default(3000),
  MELHOR_ENVIO_CACHE_SECONDS: int(0, 86_400).default(600),
  CEP_LOOKUP_URL: httpUrl.default('https://viacep.com.br'),
  CEP_LOOKUP_TIMEOUT_MS: int(100, 30_000).default(2000),
  CEP_CACHE_SECONDS: int(60, 90 * 86_400).default(7 * 86_400),
  CEP_LOOKUPS_PER_MINUTE: int(1, 100_000).default(30),
};

export type ShippingEngineName = 'table' | 'melhorenvio';

export interface ShippingSection {
  shipping: {
    engines: ShippingEngineName[];
    originCep: string | null;
    /** How long an option offered to a cart can be chosen and checked out. */
    quoteTtlMinutes: number;
    /** Freight quotes one session may ask for per minute (each may call a carrier's API). */
    quotesPerMinute: number;
    /** The package of one unit until variants carry their own weights and dimensions. */
    defaults: { weightGrams: number; lengthCm: number; widthCm: number; heightCm: number };
    melhorEnvio?: {
      baseUrl: string;
      token: string;
      userAgent: string;
      timeoutMs: number;
      cacheSeconds: number;
    };
  };
  cepLookup: { baseUrl: string; timeoutMs: number; cacheSeconds: number; perMinute: number };
}

export function shippingConfig(e: EnvOf<typeof shippingEnv>): ShippingSection {
  const engines = [...new Set(e.SHIPPING_PROVIDER.split(','))] as ShippingEngineName[];
  if (engines.includes('melhorenvio') && (!e.MELHOR_ENVIO_TOKEN || !e.SHIPPING_ORIGIN_CEP))
    throw new ConfigError([
      'SHIPPING_PROVIDER=melhorenvio needs MELHOR_ENVIO_TOKEN and SHIPPING_ORIGIN_CEP (the CEP parcels leave from)',
    ]);
  return {
    shipping: {
      engines,
      originCep: e.SHIPPING_ORIGIN_CEP ?? null,
      quoteTtlMinutes: e.SHIPPING_QUOTE_TTL_MINUTES,
      quotesPerMinute: e.SHIPPING_QUOTES_PER_MINUTE,
      defaults: {
        weightGrams: e.SHIPPING_DEFAULT_WEIGHT_GRAMS,
        lengthCm: e.SHIPPING_DEFAULT_LENGTH_CM,
        widthCm: e.SHIPPING_DEFAULT_WIDTH_CM,
        heightCm: e.SHIPPING_DEFAULT_HEIGHT_CM,
      },
      ...(engines.includes('melhorenvio')
        ? {
            melhorEnvio: {
              baseUrl: e.MELHOR_ENVIO_URL,
              token: e.MELHOR_ENVIO_TOKEN!,
              userAgent: e.MELHOR_ENVIO_USER_AGENT,
              timeoutMs: e.MELHOR_ENVIO_TIMEOUT_MS,
              cacheSeconds: e.MELHOR_ENVIO_CACHE_SECONDS,
            },
          }
        : {}),
    },
    cepLookup: {
      baseUrl: e.CEP_LOOKUP_URL,
      timeoutMs: e.CEP_LOOKUP_TIMEOUT_MS,
      cacheSeconds: e.CEP_CACHE_SECONDS,
      perMinute: e.CEP_LOOKUPS_PER_MINUTE,
    },
  };
}
