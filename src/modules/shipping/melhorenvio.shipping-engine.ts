/**
 * The `melhorenvio` engine: quotes from Melhor Envio (`POST /api/v2/me/shipment/calculate`, Bearer
 * token, `from`/`to` postal codes and the `products` with their dimensions in cm, weight in kg and
 * insurance value in reais). Its answer lists one entry per service; entries with an `error` (the
 * service does not deliver there) are left out. Answers are cached per origin, destination and
 * package for the configured time. A timeout, a refused connection, an error status or a garbled
 * answer is AppError `dependency_unavailable`.
 */
import { createHash } from 'node:crypto';
import { AppError } from '../../platform/errors.ts';
import type { TwoLevelCache } from '../../platform/cache/two-level.cache.ts';
import type { FreightOption, QuoteRequest, ShippingEngine } from './shipping-engine.ts';

interface MelhorEnvioService {
  id?: number;
  name?: string;
  price?: string | number;
  custom_price?: string | number;
  delivery_time?: number;
  delivery_range?: { min?: number; max?: number };
  custom_delivery_range?: { min?: number; max?: number };
  company?: { id?: number; name?: string };
  error?: string;
}

/** "12.34" reais → 1234 centavos, exactly (no floating point). */
export function reaisToCentavos(v: string | number): number {
  const s = typeof v === 'number' ? v.toFixed(2) : v.trim();
  const m = /^(\d+)(?:\.(\d{1,2}))?$/.exec(s);
  if (!m) throw new Error(`not an amount: ${s}`);
  return Number(m[1]) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

const centavosToReais = (c: number): number => Math.round(c) / 100;

export class MelhorEnvioShippingEngine implements ShippingEngine {
  readonly name = 'melhorenvio' as const;

  constructor(
    private readonly options: {
      baseUrl: string;
      token: string;
      userAgent: string;
      timeoutMs: number;
      originCep: string;
      cache: TwoLevelCache;
    },
  ) {}

  /** The request body as Melhor Envio documents it. */
  body(request: QuoteRequest) {
    return {
      from: { postal_code: this.options.originCep },
      to: { postal_code: request.destinationCep },
      products: request.lines.map((l) => ({
        id: l.productId,
        width: l.widthCm,
        height: l.heightCm,
        length: l.lengthCm,
        weight: l.weightGrams / 1000,
        insurance_value: centavosToReais(l.unitPrice),
        quantity: l.quantity,
      })),
      options: { receipt: false, own_hand: false },
    };
  }

  async quote(request: QuoteRequest): Promise<FreightOption[]> {
    const body = this.body(request);
    const key = createHash('sha256').update(JSON.stringify(body)).digest('hex');
    const cached = await this.options.cache.get(key);
    if (cached !== undefined) return JSON.parse(cached) as FreightOption[];
    const options = await this.fetchQuote(body);
    await this.options.cache.set(key, JSON.stringify(options));
    return options;
  }

  private async fetchQuote(body: unknown): Promise<FreightOption[]> {
    let answer: unknown;
    try {
      const res = await fetch(`${this.options.baseUrl}/api/v2/me/shipment/calculate`, {
        method: 'POST',
        headers: {
          accept: 'application/json',
          'content-type': 'application/json',
          authorization: `Bearer ${this.options.token}`,
          'user-agent': this.options.userAgent,
        },
        body: JSON.stringify(body),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      if (!res.ok) throw new Error(`Melhor Envio answered ${res.status}`);
      answer = await res.json();
      if (!Array.isArray(answer)) throw new Error('Melhor Envio answered something else than a list');
      return (answer as MelhorEnvioService[])
        .filter((s) => !s.error && (s.custom_price ?? s.price) !== undefined)
        .map((s) => {
          const range = s.custom_delivery_range ?? s.delivery_range ?? {};
          const days = s.delivery_time ?? range.max ?? 0;
          return {
            carrier: s.company?.name ?? 'Melhor Envio',
            service: s.name ?? String(s.id ?? ''),
            price: reaisToCentavos((s.custom_price ?? s.price)!),
            minDays: range.min ?? days,
            maxDays: range.max ?? days,
          };
        })
        .sort((a, b) => a.price - b.price || a.maxDays - b.maxDays);
    } catch (error) {
      throw AppError.unavailable('Melhor Envio', error);
    }
  }
}
