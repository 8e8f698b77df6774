import type { Queryable } from '../../platform/db/pool.ts';

export interface Bracket {
  maxGrams: number;
  price: number;
  minDays: number;
  maxDays: number;
}

export interface CepRange {
  from: string;
  to: string;
}

export interface ZoneRow {
  id: string;
  name: string;
  carrier: string;
  service: string;
  states: string[];
  cep_ranges: CepRange[];
  brackets: Bracket[];
  free_above: number | null;
  active: boolean;
  created_at: Date;
  updated_at: Date;
}

export interface QuoteRow {
  id: string;
  cart_id: string;
  engine: string;
  carrier: string;
  service: string;
  price: number;
  min_days: number;
  max_days: number;
  destination_cep: string;
  basis: string;
  expires_at: Date;
}

export interface ZoneInput {
  name: string;
  carrier: string;
  service: string;
  states: string[];
  cepRanges: CepRange[];
  brackets: Bracket[];
  freeAbove: number | null;
  active: boolean;
}

const ZONE_COLUMNS =
  'id, name, carrier, service, states, cep_ranges, brackets, free_above, active, created_at, updated_at';
const QUOTE_COLUMNS =
  'id, cart_id, engine, carrier, service, price, min_days, max_days, destination_cep, basis, expires_at';

export const MAX_ZONES = 500;

export const shippingSql = {
  async zones(db: Queryable, onlyActive: boolean): Promise<ZoneRow[]> {
    const { rows } = await db.query<ZoneRow>(
      `SELECT ${ZONE_COLUMNS} FROM shipping_zones WHERE ($1::boolean IS FALSE OR active)
       ORDER BY name, id LIMIT ${MAX_ZONES}`,
      [onlyActive],
    );
    return rows;
  },

  async zone(db: Queryable, id: string): Promise<ZoneRow | undefined> {
    const { rows } = await db.query<ZoneRow>(`SELECT ${ZONE_COLUMNS} FROM shipping_zones WHERE id = $1`, [
      id,
    ]);
    return rows[0];
  },

  async countZones(db: Queryable): Promise<number> {
    const { rows } = await db.query<{ n: number }>('SELECT COUNT(*)::int AS n FROM shipping_zones');
    return rows[0]!.n;
  },

  async insertZone(db: Queryable, z: ZoneInput): Promise<ZoneRow> {
    const { rows } = await db.query<ZoneRow>(
      `INSERT INTO shipping_zones (name, carrier, service, states, cep_ranges, brackets, free_above, active)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${ZONE_COLUMNS}`,
      [
        z.name,
        z.carrier,
        z.service,
        z.states,
        JSON.stringify(z.cepRanges),
        JSON.stringify(z.brackets),
        z.freeAbove,
        z.active,
      ],
    );
    return rows[0]!;
  },

  async updateZone(db: Queryable, id: string, z: ZoneInput): Promise<ZoneRow | undefined> {
    const { rows } = await db.query<ZoneRow>(
      `UPDATE shipping_zones SET name = $2, carrier = $3, service = $4, states = $5, cep_ranges = $6,
         brackets = $7, free_above = $8, active = $9, updated_at = NOW()
       WHERE id = $1 RETURNING ${ZONE_COLUMNS}`,
      [
        id,
        z.name,
        z.carrier,
        z.service,
        z.states,
        JSON.stringify(z.cepRanges),
        JSON.stringify(z.brackets),
        z.freeAbove,
        z.active,
      ],
    );
    return rows[0];
  },

  async deleteZone(db: Queryable, id: string): Promise<boolean> {
    const { rowCount } = await db.query('DELETE FROM shipping_zones WHERE id = $1', [id]);
    return (rowCount ?? 0) > 0;
  },

  /** Replaces the options offered to a cart by these (the earlier ones can no longer be chosen). */
  async replaceQuotes(
    db: Queryable,
    cartId: string,
    q: {
      engine: string[];
      carrier: string[];
      service: string[];
      price: number[];
      minDays: number[];
      maxDays: number[];
      destinationCep: string;
      basis: string;
      ttlMinutes: number;
    },
  ): Promise<QuoteRow[]> {
    const { rows } = await db.query<QuoteRow>(
      `WITH gone AS (DELETE FROM shipping_quotes WHERE cart_id = $1)
       INSERT INTO shipping_quotes (cart_id, engine, carrier, service, price, min_days, max_days, destination_cep,
         basis, expires_at)
       SELECT $1, t.engine, t.carrier, t.service, t.price, t.min_days, t.max_days, $8, $9,
              NOW() + make_interval(mins => $10)
       FROM unnest($2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::int[]) WITH ORDINALITY
            AS t(engine, carrier, service, price, min_days, max_days, n)
       ORDER BY t.n
       RETURNING ${QUOTE_COLUMNS}`,
      [
        cartId,
        q.engine,
        q.carrier,
        q.service,
        q.price,
        q.minDays,
        q.maxDays,
        q.destinationCep,
        q.basis,
        q.ttlMinutes,
      ],
    );
    return rows;
  },

  /** The options a cart was last offered (any order). */
  async quotesOf(db: Queryable, cartId: string): Promise<QuoteRow[]> {
    const { rows } = await db.query<QuoteRow>(
      `SELECT ${QUOTE_COLUMNS} FROM shipping_quotes WHERE cart_id = $1`,
      [cartId],
    );
    return rows;
  },

  async quote(db: Queryable, cartId: string, id: string): Promise<QuoteRow | undefined> {
    const { rows } = await db.query<QuoteRow>(
      `SELECT ${QUOTE_COLUMNS} FROM shipping_quotes WHERE cart_id = $1 AND id = $2`,
      [cartId, id],
    );
    return rows[0];
  },

  /** Deletes up to $1 quotes expired for a day (retention). */
  PURGE_EXPIRED: `DELETE FROM shipping_quotes WHERE id IN (
    SELECT id FROM shipping_quotes WHERE expires_at < NOW() - INTERVAL '1 day' LIMIT $1)`,
};
