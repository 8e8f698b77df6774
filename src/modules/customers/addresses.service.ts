import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { addressesSql, MAX_ADDRESSES, type AddressRow } from './addresses.sql.ts';
import type { AddressInput } from './brazil.schemas.ts';

export interface Address {
  id: string;
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
  isDefault: boolean;
  createdAt: string;
  updatedAt: string;
}

const toAddress = (r: AddressRow): Address => ({
  id: r.id,
  label: r.label,
  recipient: r.recipient,
  cep: r.cep,
  street: r.street,
  number: r.number,
  complement: r.complement,
  district: r.district,
  city: r.city,
  state: r.state,
  phone: r.phone,
  isDefault: r.is_default,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

/** A customer's address book: at most {@link MAX_ADDRESSES}, exactly one default while any exist. */
export class AddressesService {
  constructor(private readonly deps: { db: Database }) {}

  async list(customerId: string): Promise<Address[]> {
    return (await addressesSql.list(this.deps.db.primary, customerId)).map(toAddress);
  }

  /** One of the customer's addresses; another's (or none) is 404. */
  async get(customerId: string, id: string): Promise<Address> {
    const row = isUuid(id) ? await addressesSql.find(this.deps.db.primary, customerId, id) : undefined;
    if (!row) throw AppError.notFound('Address', { addressId: id });
    return toAddress(row);
  }

  /** Adds an address; the first one (or one marked `isDefault`) becomes the default. */
  create(customerId: string, input: AddressInput & { isDefault?: boolean }): Promise<Address> {
    const { isDefault, ...address } = input;
    return withTransaction(this.deps.db.primary, async (tx) => {
      const n = await addressesSql.lockCustomer(tx, customerId);
      if (n >= MAX_ADDRESSES)
        throw AppError.conflict(
          'address_limit_reached',
          `At most ${MAX_ADDRESSES} addresses: delete one first`,
        );
      const makeDefault = n === 0 || isDefault === true;
      if (makeDefault) await addressesSql.clearDefault(tx, customerId);
      return toAddress(await addressesSql.insert(tx, customerId, address, makeDefault));
    });
  }

  /** Changes an address; `isDefault: true` moves the default to it (false is ignored: pick another instead). */
  update(
    customerId: string,
    id: string,
    input: Partial<AddressInput> & { isDefault?: boolean },
  ): Promise<Address> {
    const { isDefault, ...patch } = input;
    if (!isUuid(id)) return Promise.reject(AppError.notFound('Address', { addressId: id }));
    return withTransaction(this.deps.db.primary, async (tx) => {
      await addressesSql.lockCustomer(tx, customerId);
      if (isDefault === true) await addressesSql.clearDefault(tx, customerId);
      const row = await addressesSql.update(tx, customerId, id, patch, isDefault === true ? true : undefined);
      if (!row) throw AppError.notFound('Address', { addressId: id });
      return toAddress(row);
    });
  }

  /** Deletes an address; when it was the default, the oldest remaining one becomes the default. */
  async remove(customerId: string, id: string): Promise<void> {
    if (!isUuid(id)) throw AppError.notFound('Address', { addressId: id });
    await withTransaction(this.deps.db.primary, async (tx) => {
      await addressesSql.lockCustomer(tx, customerId);
      const row = await addressesSql.delete(tx, customerId, id);
      if (!row) throw AppError.notFound('Address', { addressId: id });
      if (row.is_default) await addressesSql.promoteOldest(tx, customerId);
    });
  }

  /** Erasure, in the caller's transaction: the address book goes whole. */
  deleteOfCustomer(tx: Queryable, customerId: string): Promise<number> {
    return addressesSql.deleteAll(tx, customerId);
  }

  /** The address book as the customer's data export shows it. */
  async exportOf(customerId: string): Promise<Address[]> {
    return this.list(customerId);
  }
}
