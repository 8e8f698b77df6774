/**
 * Freight: the zones of the table engine (admin CRUD), and the options offered to a cart. Every
 * option offered is stored here with its price, its basis (what it priced) and an expiry; a cart
 * chooses one by id, so the price a client checks out with is always ours.
 */
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import { deleteInBatches } from '../../platform/jobs/batches.ts';
import { MAX_ZONES, shippingSql, type QuoteRow, type ZoneInput, type ZoneRow } from './shipping.sql.ts';
import {
  basisOf,
  type FreightOption,
  type QuoteRequest,
  type ShippingEngine,
  type UnitPackage,
} from './shipping-engine.ts';
import type { ActiveZones } from './active-zones.ts';

export interface ShippingZone {
  id: string;
  name: string;
  carrier: string;
  service: string;
  states: string[];
  cepRanges: { from: string; to: string }[];
  brackets: { maxGrams: number; price: number; minDays: number; maxDays: number }[];
  freeAbove: number | null;
  active: boolean;
  createdAt: string;
  updatedAt: string;
}

const toZone = (r: ZoneRow): ShippingZone => ({
  id: r.id,
  name: r.name,
  carrier: r.carrier,
  service: r.service,
  states: r.states,
  cepRanges: r.cep_ranges,
  brackets: r.brackets,
  freeAbove: r.free_above,
  active: r.active,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** An option offered to a cart: what the store API answers. */
export interface ShippingOption {
  id: string;
  engine: string;
  carrier: string;
  service: string;
  price: number;
  deliveryDays: { min: number; max: number };
  expiresAt: string;
}

/** The option a cart chose, as the cart keeps it (a snapshot) and the order copies it. */
export interface ChosenShipping extends ShippingOption {
  destinationCep: string;
  basis: string;
}

const toOption = (r: QuoteRow): ShippingOption => ({
  id: r.id,
  engine: r.engine,
  carrier: r.carrier,
  service: r.service,
  price: r.price,
  deliveryDays: { min: r.min_days, max: r.max_days },
  expiresAt: r.expires_at.toISOString(),
});

const toChosen = (r: QuoteRow): ChosenShipping => ({
  ...toOption(r),
  destinationCep: r.destination_cep,
  basis: r.basis,
});

/** An engine that could not answer, named in the options answer (the others' options still count). */
export interface EngineOutage {
  engine: string;
  code: 'dependency_unavailable';
}

export class ShippingService {
  constructor(
    private readonly deps: {
      db: Database;
      engines: ShippingEngine[];
      /** What the table engine prices with: emptied here after every change to the zones. */
      zones: ActiveZones;
      quoteTtlMinutes: number;
      /** One unit's package until products (variants) carry their own. */
      unitPackage: UnitPackage;
    },
  ) {}

  get unitPackage(): UnitPackage {
    return this.deps.unitPackage;
  }

  async listZones(): Promise<ShippingZone[]> {
    return (await shippingSql.zones(this.deps.db.primary, false)).map(toZone);
  }

  async getZone(id: string): Promise<ShippingZone> {
    const row = isUuid(id) ? await shippingSql.zone(this.deps.db.primary, id) : undefined;
    if (!row) throw AppError.notFound('Shipping zone', { zoneId: id });
    return toZone(row);
  }

  async createZone(input: ZoneInput): Promise<ShippingZone> {
    if ((await shippingSql.countZones(this.deps.db.primary)) >= MAX_ZONES)
      throw AppError.conflict('zone_limit_reached', `At most ${MAX_ZONES} shipping zones`);
    const row = await shippingSql.insertZone(this.deps.db.primary, checkZone(input));
    await this.deps.zones.changed();
    return toZone(row);
  }

  async updateZone(id: string, patch: Partial<ZoneInput>): Promise<ShippingZone> {
    const current = await this.getZone(id);
    const merged: ZoneInput = {
      name: patch.name ?? current.name,
      carrier: patch.carrier ?? current.carrier,
      service: patch.service ?? current.service,
      states: patch.states ?? current.states,
      cepRanges: patch.cepRanges ?? current.cepRanges,
      brackets: patch.brackets ?? current.brackets,
      freeAbove: patch.freeAbove === undefined ? current.freeAbove : patch.freeAbove,
      active: patch.active ?? current.active,
    };
    const row = await shippingSql.updateZone(this.deps.db.primary, id, checkZone(merged));
    if (!row) throw AppError.notFound('Shipping zone', { zoneId: id });
    await this.deps.zones.changed();
    return toZone(row);
  }

  async deleteZone(id: string): Promise<void> {
    if (!isUuid(id) || !(await shippingSql.deleteZone(this.deps.db.primary, id)))
      throw AppError.notFound('Shipping zone', { zoneId: id });
    await this.deps.zones.changed();
  }

  /** The options a cart was last offered, to pass back to {@link quoteCart}. */
  offered(cartId: string): Promise<QuoteRow[]> {
    return shippingSql.quotesOf(this.deps.db.primary, cartId);
  }

  /**
   * Prices the request with every engine and stores the options as the cart's (replacing the
   * earlier ones). An engine that cannot answer is named in `unavailable`; when none can, 503.
   * When the cart was `kept` the very same options (same request, prices and days) with more than
   * half their time left, those are answered as they are (same ids), and nothing is written.
   */
  async quoteCart(
    cartId: string,
    request: QuoteRequest,
    kept: QuoteRow[] = [],
  ): Promise<{ options: ShippingOption[]; unavailable: EngineOutage[] }> {
    const answers = await Promise.allSettled(this.deps.engines.map((e) => e.quote(request)));
    const offered: { engine: string; o: Awaited<ReturnType<ShippingEngine['quote']>>[number] }[] = [];
    const unavailable: EngineOutage[] = [];
    answers.forEach((a, i) => {
      const engine = this.deps.engines[i]!.name;
      if (a.status === 'fulfilled') for (const o of a.value) offered.push({ engine, o });
      else if (a.reason instanceof AppError && a.reason.code === 'dependency_unavailable')
        unavailable.push({ engine, code: 'dependency_unavailable' });
      else throw a.reason;
    });
    if (unavailable.length === this.deps.engines.length) {
      throw AppError.unavailable(`Freight quotes (${unavailable.map((u) => u.engine).join(', ')})`);
    }
    const same = this.sameOffer(kept, offered, request);
    if (same) return { options: same.map(toOption), unavailable };
    const rows = await shippingSql.replaceQuotes(this.deps.db.primary, cartId, {
      engine: offered.map((x) => x.engine),
      carrier: offered.map((x) => x.o.carrier),
      service: offered.map((x) => x.o.service),
      price: offered.map((x) => x.o.price),
      minDays: offered.map((x) => x.o.minDays),
      maxDays: offered.map((x) => x.o.maxDays),
      destinationCep: request.destinationCep,
      basis: basisOf(request),
      ttlMinutes: this.deps.quoteTtlMinutes,
    });
    return { options: rows.map(toOption), unavailable };
  }

  /** `kept`'s row for each option offered now, if every one is there unchanged and fresh enough. */
  private sameOffer(
    kept: QuoteRow[],
    offered: { engine: string; o: FreightOption }[],
    request: QuoteRequest,
  ): QuoteRow[] | undefined {
    if (kept.length === 0 || kept.length !== offered.length) return undefined;
    const basis = basisOf(request);
    const fresh = Date.now() + (this.deps.quoteTtlMinutes * 60_000) / 2;
    const rows: QuoteRow[] = [];
    for (const { engine, o } of offered) {
      const k = kept.find(
        (r) =>
          r.engine === engine &&
          r.carrier === o.carrier &&
          r.service === o.service &&
          r.price === o.price &&
          r.min_days === o.minDays &&
          r.max_days === o.maxDays &&
          r.basis === basis &&
          r.destination_cep === request.destinationCep &&
          r.expires_at.getTime() > fresh &&
          !rows.includes(r),
      );
      if (!k) return undefined;
      rows.push(k);
    }
    return rows;
  }

  /**
   * The option `optionId` offered to this cart, valid for `request` (same basis) and not
   * expired: what a cart may choose. Anything else is 400 `invalid_shipping_option`.
   */
  async choose(
    db: Queryable,
    cartId: string,
    optionId: string,
    request: QuoteRequest,
  ): Promise<ChosenShipping> {
    const row = isUuid(optionId) ? await shippingSql.quote(db, cartId, optionId) : undefined;
    if (!row || row.basis !== basisOf(request) || row.expires_at.getTime() <= Date.now())
      throw new AppError(
        'invalid',
        'invalid_shipping_option',
        'This shipping option is not one offered for this cart as it is now (ask for the options again)',
        { details: [{ field: 'optionId', message: 'not offered, changed or expired' }] },
      );
    return toChosen(row);
  }

  /**
   * The cart's chosen option priced again (its quote expired): the same engine, carrier and
   * service from a fresh quote, now the cart's. Undefined when it is no longer offered.
   */
  async requote(
    cartId: string,
    chosen: ChosenShipping,
    request: QuoteRequest,
  ): Promise<ChosenShipping | undefined> {
    const { options } = await this.quoteCart(cartId, request);
    const same = options.find(
      (o) => o.engine === chosen.engine && o.carrier === chosen.carrier && o.service === chosen.service,
    );
    return same ? { ...same, destinationCep: request.destinationCep, basis: basisOf(request) } : undefined;
  }

  /** Whether a chosen option still holds for `request`: same basis, not expired. */
  isValid(chosen: ChosenShipping, request: QuoteRequest): boolean {
    return chosen.basis === basisOf(request) && new Date(chosen.expiresAt).getTime() > Date.now();
  }

  /** Retention: quotes expired for a day are deleted (a cart's chosen option is a snapshot on the cart). */
  purgeJob(batch = 1000): Job {
    return defineJob({
      name: 'purge-shipping-quotes',
      schedule: '40 3 * * *',
      description: 'Deletes freight quotes expired for a day',
      run: async (ctx) => ({
        deleted: await deleteInBatches(this.deps.db.primary, shippingSql.PURGE_EXPIRED, [], ctx, {
          batch,
          unit: 'quotes',
        }),
      }),
    });
  }
}

/** A zone that can price: brackets ascending by weight, ranges ordered; else 400 naming the field. */
function checkZone(z: ZoneInput): ZoneInput {
  if (z.states.length === 0 && z.cepRanges.length === 0)
    throw AppError.invalid('A zone covers at least one UF or CEP range', [
      { field: 'states', message: 'empty, and no cepRanges' },
    ]);
  z.cepRanges.forEach((r, i) => {
    if (r.from > r.to)
      throw AppError.invalid('A CEP range starts before it ends', [
        { field: `cepRanges.${i}`, message: 'from is after to' },
      ]);
  });
  z.brackets.forEach((b, i) => {
    if (b.minDays > b.maxDays)
      throw AppError.invalid('minDays is at most maxDays', [
        { field: `brackets.${i}.minDays`, message: 'after maxDays' },
      ]);
  });
  return { ...z, brackets: [...z.brackets].sort((a, b) => a.maxGrams - b.maxGrams) };
}
