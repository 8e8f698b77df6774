/**
 * The freight port: an engine prices the delivery of a package to a CEP. Adapters: `table`
 * (zones and weight brackets kept in our database, see table.shipping-engine.ts) and
 * `melhorenvio` (Melhor Envio's quote API, see melhorenvio.shipping-engine.ts).
 */
import { createHash } from 'node:crypto';

/** One unit's package: weight and dimensions (today the configured defaults, later per variant). */
export interface UnitPackage {
  weightGrams: number;
  lengthCm: number;
  widthCm: number;
  heightCm: number;
}

export interface PackageLine extends UnitPackage {
  productId: string;
  quantity: number;
  /** Centavos: the declared value (insurance) of one unit. */
  unitPrice: number;
}

/** What is quoted: where to, which goods, and their value (free shipping thresholds use it). */
export interface QuoteRequest {
  destinationCep: string;
  state: string;
  lines: PackageLine[];
  /** Centavos, the goods' total. */
  subtotal: number;
}

/** One way of delivering, as an engine prices it. */
export interface FreightOption {
  carrier: string;
  service: string;
  /** Centavos. */
  price: number;
  minDays: number;
  maxDays: number;
}

export interface ShippingEngine {
  readonly name: 'table' | 'melhorenvio';
  /**
   * The options for this request (none: this engine does not deliver there). Throws AppError
   * `dependency_unavailable` when it cannot answer.
   */
  quote(request: QuoteRequest): Promise<FreightOption[]>;
}

export const totalGrams = (lines: PackageLine[]): number =>
  lines.reduce((n, l) => n + l.weightGrams * l.quantity, 0);

/**
 * What a quote priced, as a digest: destination, every line's package and quantity, the value.
 * A chosen option is valid only while the cart still has the same basis.
 */
export function basisOf(r: QuoteRequest): string {
  const lines = [...r.lines]
    .sort((a, b) => a.productId.localeCompare(b.productId))
    .map((l) => [l.productId, l.quantity, l.weightGrams, l.lengthCm, l.widthCm, l.heightCm, l.unitPrice]);
  return createHash('sha256')
    .update(JSON.stringify([r.destinationCep, r.state, r.subtotal, lines]))
    .digest('hex');
}
