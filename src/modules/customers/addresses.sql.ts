import type { Queryable } from '../../platform/db/pool.ts';
import type { AddressInput } from './brazil.schemas.ts';

export interface AddressRow {
  id: string;
  customer_id: string;
  label: string | null;
  recipient: string;
  cep: string;
  street: string;
  number: string;
  complement: string | null;
  district: string;
  city: string;
  state: string;
  phone: string | null;
  is_default: boolean;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = `id, customer_id, label, recipient, cep, street, number, complement, district, city, state,
  phone, is_default, created_at, updated_at`;

/** The columns a client may set, in a fixed order (the UPDATE names them from this list only). */
const FIELDS = [
  ['label', 'label'],
  ['recipient', 'recipient'],
  ['cep', 'cep'],
  ['street', 'street'],
  ['number', 'number'],
  ['complement', 'complement'],
  ['district', 'district'],
  ['city', 'city'],
  ['state', 'state'],
  ['phone', 'phone'],
] as const satisfies readonly (readonly [keyof AddressInput, string])[];

export const MAX_ADDRESSES = 20;

export const addressesSql = {
  async list(db: Queryable, customerId: string): Promise<AddressRow[]> {
    const { rows } = await db.query<AddressRow>(
      `SELECT ${COLUMNS} FROM customer_addresses WHERE customer_id = $1 ORDER BY is_default DESC, created_at, id`,
      [customerId],
    );
    return rows;
  },

  async find(db: Queryable, customerId: string, id: string): Promise<AddressRow | undefined> {
    const { rows } = await db.query<AddressRow>(
      `SELECT ${COLUMNS} FROM customer_addresses WHERE customer_id = $1 AND id = $2`,
      [customerId, id],
    );
    return rows[0];
  },

  /** Serializes the address changes of one customer (count, default) to the end of `tx`. */
  async lockCustomer(tx: Queryable, customerId: string): Promise<number> {
    await tx.query("SELECT pg_advisory_xact_lock(hashtextextended('addresses:' || $1, 0))", [customerId]);
    const { rows } = await tx.query<{ n: number }>(
      'SELECT COUNT(*)::int AS n FROM customer_addresses WHERE customer_id = $1',
      [customerId],
    );
    return rows[0]!.n;
  },

  async clearDefault(tx: Queryable, customerId: string): Promise<void> {
    await tx.query('UPDATE customer_addresses SET is_default = false WHERE customer_id = $1 AND is_default', [
      customerId,
    ]);
  },

  async insert(tx: Queryable, customerId: string, a: AddressInput, isDefault: boolean): Promise<AddressRow> {
    const { rows } = await tx.query<AddressRow>(
      `INSERT INTO customer_addresses (customer_id, label, recipient, cep, street, number, complement, district,
         city, state, phone, is_default)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING ${COLUMNS}`,
      [
        customerId,
        a.label ?? null,
        a.recipient,
        a.cep,
        a.street,
        a.number,
        a.complement ?? null,
        a.district,
        a.city,
        a.state,
        a.phone ?? null,
        isDefault,
      ],
    );
    return rows[0]!;
  },

  /** Sets the given fields (names from {@link FIELDS} only) and the default flag when given. */
  async update(
    tx: Queryable,
    customerId: string,
    id: string,
    patch: Partial<AddressInput>,
    isDefault: boolean | undefined,
  ): Promise<AddressRow | undefined> {
    const sets: string[] = [];
    const values: unknown[] = [customerId, id];
    for (const [key, column] of FIELDS) {
      if (!(key in patch)) continue;
      values.push(patch[key] ?? null);
      sets.push(`"${column}" = $${values.length}`);
    }
    if (isDefault !== undefined) {
      values.push(isDefault);
      sets.push(`is_default = $${values.length}`);
    }
    sets.push('updated_at = NOW()');
    const { rows } = await tx.query<AddressRow>(
      `UPDATE customer_addresses SET ${sets.join(', ')} WHERE customer_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      values,
    );
    return rows[0];
  },

  async delete(tx: Queryable, customerId: string, id: string): Promise<AddressRow | undefined> {
    const { rows } = await tx.query<AddressRow>(
      `DELETE FROM customer_addresses WHERE customer_id = $1 AND id = $2 RETURNING ${COLUMNS}`,
      [customerId, id],
    );
    return rows[0];
  },

  /** Erasure: the address book goes whole. */
  async deleteAll(tx: Queryable, customerId: string): Promise<number> {
    const { rowCount } = await tx.query('DELETE FROM customer_addresses WHERE customer_id = $1', [
      customerId,
    ]);
    return rowCount ?? 0;
  },

  /** After the default was deleted: the oldest remaining address becomes the default. */
  async promoteOldest(tx: Queryable, customerId: string): Promise<void> {
    await tx.query(
      `UPDATE customer_addresses SET is_default = true WHERE id = (
         SELECT id FROM customer_addresses WHERE customer_id = $1 ORDER BY created_at, id LIMIT 1)`,
      [customerId],
    );
  },
};
