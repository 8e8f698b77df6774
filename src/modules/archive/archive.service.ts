/**
 * Order archival: orders in a final status (delivered, cancelled, refunded) older than the retention are
 * written, with their items and payment attempts, as gzipped JSON Lines to the archive bucket, read
 * back and checked (line count and SHA-256), moved to cold storage, and only then deleted from the
 * hot tables in one transaction with their index rows (`order_archive`) and their sales
 * (`archived_sales`, which product_stats adds to the hot orders). Batches are independent: a run
 * stopped at any point loses nothing (an object whose batch did not commit is only an orphan copy;
 * its orders stay hot and go into a later batch) and archives nothing twice.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes, randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { gunzip as gunzipCb, gzip as gzipCb } from 'node:zlib';
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { PaymentsService } from '../payments/payments.service.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import { defineJob, type Job } from '../../platform/jobs/job.ts';
import type { ObjectStore } from '../../platform/storage/object-store.ts';
import { archiveSql, type ArchivedOrder, type SealedPersonal } from './archive.sql.ts';

const gzip = promisify(gzipCb);
const gunzip = promisify(gunzipCb);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
/** How long a restored copy stays readable in S3 after a restore from Glacier. */
const RESTORE_DAYS = 7;

export type RestoreOutcome =
  | { status: 'restored'; orderId: string }
  | { status: 'restore_requested' | 'restoring'; orderId: string; objectKey: string }
  | { status: 'not_archived'; orderId: string };

function salesOf(lines: ArchivedOrder[]): Map<string, { orders: number; units: number }> {
  const sales = new Map<string, { orders: number; units: number }>();
  for (const l of lines) {
    if (l.order.status === 'cancelled' || l.order.status === 'refunded') continue;
    const seen = new Set<string>();
    for (const i of l.items) {
      if (!i.product_id) continue;
      const s = sales.get(i.product_id) ?? { orders: 0, units: 0 };
      s.units += i.quantity;
      if (!seen.has(i.product_id)) s.orders++;
      seen.add(i.product_id);
      sales.set(i.product_id, s);
    }
  }
  return sales;
}

/** AES-256-GCM with the customer's archive key; the order id is the associated data. */
function seal(key: Buffer, orderId: string, personal: SealedPersonal): NonNullable<ArchivedOrder['sealed']> {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv).setAAD(Buffer.from(orderId));
  const data = Buffer.concat([cipher.update(JSON.stringify(personal), 'utf8'), cipher.final()]);
  return {
    iv: iv.toString('base64'),
    tag: cipher.getAuthTag().toString('base64'),
    data: data.toString('base64'),
  };
}

function unseal(key: Buffer, orderId: string, sealed: NonNullable<ArchivedOrder['sealed']>): SealedPersonal {
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(sealed.iv, 'base64'))
    .setAAD(Buffer.from(orderId))
    .setAuthTag(Buffer.from(sealed.tag, 'base64'));
  const clear = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]);
  return JSON.parse(clear.toString('utf8')) as SealedPersonal;
}

/**
 * A line as written to the archive: a customer's order carries neither the customer's id nor the
 * text of its customizations in clear, only sealed with the customer's key (erasure destroys it).
 */
function withoutPersonal(line: ArchivedOrder, keys: Map<string, Buffer>): ArchivedOrder {
  const customerId = line.order.customer_id;
  if (!customerId) return line;
  const key = keys.get(customerId);
  if (!key) throw new Error(`no archive key for the customer of order ${line.order.id}`);
  const customizations = Object.fromEntries(
    line.items.filter((i) => i.customization != null).map((i) => [i.id, i.customization]),
  );
  const { shipping_address: shippingAddress = null, buyer = null } = line.order;
  return {
    ...line,
    order: { ...line.order, customer_id: null, shipping_address: null, buyer: null },
    items: line.items.map((i) => ({ ...i, customization: null })),
    // The customer's own steps name them: the sealed customer id stands for it.
    ...(line.events
      ? { events: line.events.map((e) => (e.actor_type === 'customer' ? { ...e, actor: null } : e)) }
      : {}),
    sealed: seal(key, line.order.id, { customerId, customizations, shippingAddress, buyer }),
  };
}

export class ArchiveService {
  constructor(
    private readonly deps: {
      db: Database;
      objects: ObjectStore;
      afterDays: number;
      /** The orders (and their items) to archive, deleted and restored by their owner. */
      orders: Pick<OrdersService, 'archivable' | 'deleteArchived' | 'exists' | 'restoreArchived'>;
      /** Their payment attempts and refunds, copied and restored by their owner. */
      payments: Pick<PaymentsService, 'archiveRowsOf' | 'restoreArchived'>;
    },
  ) {}

  /** The oldest final orders past the age, whole: each with its items, attempts and refunds. */
  private async candidates(limit: number): Promise<ArchivedOrder[]> {
    const orders = await this.deps.orders.archivable(this.deps.afterDays, limit);
    const money = await this.deps.payments.archiveRowsOf(orders.map((o) => o.order.id));
    return orders.map((o) => ({
      ...o,
      payments: money.get(o.order.id)?.payments ?? [],
      refunds: money.get(o.order.id)?.refunds ?? [],
    }));
  }

  /** Archives one batch; returns how many orders left the hot tables (0: nothing old enough). */
  async archiveBatch(limit: number): Promise<{ archived: number; read: number; objectKey?: string }> {
    const lines = await this.candidates(limit);
    if (lines.length === 0) return { archived: 0, read: 0 };
    const first = lines[0]!.order.created_at;
    const objectKey = `orders/${first.slice(0, 4)}/${first.slice(5, 7)}/${randomUUID()}.jsonl.gz`;
    const customers = [...new Set(lines.flatMap((l) => (l.order.customer_id ? [l.order.customer_id] : [])))];
    const keys = await archiveSql.customerKeys(this.deps.db.primary, customers, () => randomBytes(32));
    const written = lines.map((l) => withoutPersonal(l, keys));
    const body = await gzip(Buffer.from(written.map((l) => JSON.stringify(l)).join('\n') + '\n'));
    const checksum = sha256(body);
    await this.deps.objects.put('archive', objectKey, body, {
      contentType: 'application/gzip',
      metadata: { orders: String(lines.length), sha256: checksum },
    });
    // Read back before anything is deleted: the same bytes, the same orders.
    const back = await this.deps.objects.get('archive', objectKey);
    if (!back || sha256(back.body) !== checksum)
      throw new Error(`archive object ${objectKey} did not read back intact`);
    const decoded = (await gunzip(back.body)).toString('utf8').trimEnd().split('\n');
    const ids = decoded.map((l) => (JSON.parse(l) as ArchivedOrder).order.id);
    if (ids.length !== lines.length || ids.some((id, n) => id !== lines[n]!.order.id))
      throw new Error(`archive object ${objectKey} does not hold the batch it was written with`);
    await this.deps.objects.toColdStorage('archive', objectKey);

    const archived = await withTransaction(this.deps.db.primary, async (tx) => {
      const deleted = new Set(
        await this.deps.orders.deleteArchived(
          tx,
          lines.map((l) => l.order),
        ),
      );
      const gone = lines.filter((l) => deleted.has(l.order.id));
      await archiveSql.index(
        tx,
        gone.map((l) => l.order),
        objectKey,
      );
      await archiveSql.addSales(tx, salesOf(gone), 1);
      return gone.length;
    });
    return { archived, read: lines.length, objectKey };
  }

  job(batch = 500): Job {
    return defineJob({
      name: 'archive-orders',
      schedule: '0 4 * * *',
      retentionStep: 1,
      description: `Moves delivered, cancelled and refunded orders older than ${this.deps.afterDays} days to the archive bucket (verified, then deleted from the hot tables)`,
      run: async ({ signal, progress }) => {
        let archived = 0;
        let objects = 0;
        for (;;) {
          if (signal.aborted) break;
          const r = await this.archiveBatch(batch);
          archived += r.archived;
          if (r.objectKey) objects++;
          progress({ done: archived, unit: 'orders' });
          if (r.read < batch) break;
        }
        return { archived, objects };
      },
    });
  }

  /**
   * Brings one archived order back into the hot tables. From cold storage, the first call asks for
   * a restore (S3 Glacier takes hours) and says so; a later call, once the copy is readable,
   * restores the order. An order erased after archival comes back without its personal fields.
   */
  async restoreOrder(orderId: string): Promise<RestoreOutcome> {
    if (!isUuid(orderId)) throw AppError.notFound('Archived order', { orderId });
    const db = this.deps.db.primary;
    const found = await archiveSql.find(db, orderId);
    if (!found) {
      if (await this.deps.orders.exists(db, orderId)) return { status: 'not_archived', orderId };
      throw AppError.notFound('Archived order', { orderId });
    }
    const state = await this.deps.objects.coldState('archive', found.object_key);
    if (state === 'missing') throw new Error(`archive object ${found.object_key} is missing`);
    if (state === 'cold') {
      await this.deps.objects.requestRestore('archive', found.object_key, RESTORE_DAYS);
      return { status: 'restore_requested', orderId, objectKey: found.object_key };
    }
    if (state === 'restoring') return { status: 'restoring', orderId, objectKey: found.object_key };
    const object = await this.deps.objects.get('archive', found.object_key);
    if (!object) throw new Error(`archive object ${found.object_key} is missing`);
    const line = (await gunzip(object.body))
      .toString('utf8')
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as ArchivedOrder)
      .find((l) => l.order.id === orderId);
    if (!line) throw new Error(`archive object ${found.object_key} does not hold order ${orderId}`);
    await withTransaction(db, async (tx) => {
      const again = await archiveSql.find(tx, orderId);
      if (!again) return; // restored meanwhile by another call
      let personal: SealedPersonal | undefined;
      if (line.sealed) {
        const key = again.customer_id ? await archiveSql.customerKey(tx, again.customer_id) : undefined;
        personal = key
          ? unseal(key, orderId, line.sealed)
          : { customerId: again.customer_id ?? '', customizations: {} };
      }
      await this.restoreLine(
        tx,
        line,
        again.erased,
        personal && { ...personal, customerId: personal.customerId || null },
      );
      await archiveSql.addSales(tx, salesOf([line]), -1);
    });
    return { status: 'restored', orderId };
  }

  /**
   * Puts an archived order back in the hot tables through their owners (items, attempts and
   * refunds too) and drops its index row. A line with a sealed part takes the customer from the
   * index and the customizations from the unsealed part (none once the customer's key was
   * destroyed); an older line holds them in clear; an erased customer's order comes back without.
   */
  private async restoreLine(
    tx: Tx,
    line: ArchivedOrder,
    erased: boolean,
    personal?: Omit<SealedPersonal, 'customerId'> & { customerId: string | null },
  ): Promise<void> {
    const o = line.order;
    const customerId = erased ? null : personal ? personal.customerId : o.customer_id;
    const items = line.items.map((i) => ({
      ...i,
      customization: erased ? null : personal ? (personal.customizations[i.id] ?? null) : i.customization,
    }));
    // Delivery address and buyer: sealed with the customer's, in clear on a guest's order; an
    // erased customer's order comes back without them.
    const shippingAddress = erased
      ? null
      : personal?.shippingAddress !== undefined
        ? personal.shippingAddress
        : o.shipping_address;
    const buyer = erased ? null : personal?.buyer !== undefined ? personal.buyer : o.buyer;
    const events = line.events?.map((e) =>
      e.actor_type === 'customer' && e.actor === null && !erased && customerId
        ? { ...e, actor: customerId }
        : e,
    );
    await this.deps.orders.restoreArchived(
      tx,
      {
        ...o,
        customer_id: customerId,
        shipping_address: (shippingAddress ?? null) as typeof o.shipping_address,
        buyer: (buyer ?? null) as typeof o.buyer,
      },
      items,
      { ...(line.fulfillments ? { fulfillments: line.fulfillments } : {}), ...(events ? { events } : {}) },
    );
    await this.deps.payments.restoreArchived(tx, line.payments, line.refunds ?? []);
    await archiveSql.unindex(tx, o.id);
  }

  /** A customer's archived orders (newest first), for their own history and their data export. */
  async ofCustomer(customerId: string, limit = 100) {
    return (await archiveSql.ofCustomer(this.deps.db.primary, customerId, limit)).map((r) => ({
      id: r.order_id,
      status: r.status,
      totalAmount: r.total_amount,
      currency: r.currency,
      createdAt: r.created_at.toISOString(),
      archivedAt: r.archived_at.toISOString(),
    }));
  }

  /** Erasure, in the caller's transaction: see archiveSql.detachCustomer. */
  detachCustomer(tx: Tx, customerId: string): Promise<string[]> {
    return archiveSql.detachCustomer(tx, customerId);
  }

  /** The customer's archived orders as their data export shows them. */
  exportOf(customerId: string): Promise<Record<string, unknown>[]> {
    return archiveSql.exportOf(this.deps.db.primary, customerId);
  }
}
