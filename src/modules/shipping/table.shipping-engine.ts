/**
 * The `table` engine: our own freight table. A zone covers UFs and/or CEP ranges; its weight
 * brackets give the price and the delivery days of the package's total weight (the first bracket
 * that holds it; heavier than every bracket: the zone does not deliver it); at or above the
 * zone's `freeAbove` goods total, delivery is free.
 */
import type { ActiveZones } from './active-zones.ts';
import type { ZoneRow } from './shipping.sql.ts';
import { totalGrams, type FreightOption, type QuoteRequest, type ShippingEngine } from './shipping-engine.ts';

export function zoneCovers(
  zone: Pick<ZoneRow, 'states' | 'cep_ranges'>,
  cep: string,
  state: string,
): boolean {
  return zone.states.includes(state) || zone.cep_ranges.some((r) => r.from <= cep && cep <= r.to);
}

export function priceInZone(zone: ZoneRow, request: QuoteRequest): FreightOption | undefined {
  const grams = totalGrams(request.lines);
  const bracket = [...zone.brackets].sort((a, b) => a.maxGrams - b.maxGrams).find((b) => grams <= b.maxGrams);
  if (!bracket) return undefined;
  const free = zone.free_above !== null && request.subtotal >= zone.free_above;
  return {
    carrier: zone.carrier,
    service: zone.service,
    price: free ? 0 : bracket.price,
    minDays: bracket.minDays,
    maxDays: bracket.maxDays,
  };
}

export class TableShippingEngine implements ShippingEngine {
  readonly name = 'table' as const;

  constructor(private readonly deps: { zones: ActiveZones }) {}

  async quote(request: QuoteRequest): Promise<FreightOption[]> {
    const zones = await this.deps.zones.list();
    return zones
      .filter((z) => zoneCovers(z, request.destinationCep, request.state))
      .map((z) => priceInZone(z, request))
      .filter((o): o is FreightOption => o !== undefined)
      .sort((a, b) => a.price - b.price || a.maxDays - b.maxDays);
  }
}
