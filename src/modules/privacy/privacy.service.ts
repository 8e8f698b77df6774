/**
 * The customer's rights over their data (GDPR / LGPD): erasure and access.
 *
 * Erasure replaces the customer's personal data in one transaction (profile, password, the link
 * from their orders and reviews, their carts, the personal text of order customizations, the
 * stored answers of their keyed requests) and records `customer.anonymized` in the outbox with it.
 * What lives outside the database (sessions in Redis, uploaded files, the names printed on stored
 * invoices) is cleaned right after the commit and again by the event's consumer, which retries
 * until it has succeeded: an outage cannot leave personal data behind for good. Erasing twice is
 * harmless: the second call finds the customer erased and repeats only the outside clean-up.
 *
 * Each table is erased (and exported) by the module that owns it, in this service's transaction:
 * privacy decides what goes and in which order, the owners how.
 */
import { randomUUID } from 'node:crypto';
import type { Database, Queryable } from '../../platform/db/pool.ts';
import { withTransaction } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import { defineConsumer, type ConsumerSpec } from '../../platform/events/bus.ts';
import { recordEvents } from '../../platform/events/outbox.ts';
import { isUuid } from '../../platform/ids.ts';
import type { SessionStore } from '../../platform/sessions/session-store.ts';
import { purgeVersions, type ObjectStore } from '../../platform/storage/object-store.ts';
import type { ArchiveService } from '../archive/archive.service.ts';
import type { AuditService } from '../audit/audit.service.ts';
import type { CartsService } from '../carts/carts.service.ts';
import type { AddressesService } from '../customers/addresses.service.ts';
import type { CustomersService } from '../customers/customers.service.ts';
import type { IdempotencyService } from '../idempotency/idempotency.service.ts';
import type { InvoicesService } from '../invoices/invoices.service.ts';
import type { OrdersService } from '../orders/orders.service.ts';
import type { PaymentsService } from '../payments/payments.service.ts';
import type { ReviewsService } from '../reviews/reviews.service.ts';
import { uploadPrefix, type UploadsService } from '../uploads/uploads.service.ts';

/** What an erasure removes, by category (recorded in the audit log; never the values). */
export const ERASED_CATEGORIES = [
  'profile (email, name, phone, address, CPF/CNPJ)',
  'address book',
  'delivery address and buyer (name, email, CPF/CNPJ) of their orders and their history',
  'password',
  'sessions',
  'carts',
  'order customizations',
  'link from orders (kept for accounting)',
  'review authorship (reviews kept)',
  'stored answers of keyed requests',
  'uploaded files',
  'name and email on stored invoices (earlier versions deleted; archived orders: invoice deleted)',
  'payment instructions kept for the payer (PIX codes, boleto vouchers)',
  'archive key (customer id and customizations in archived orders)',
] as const;

export interface ErasureResult {
  customerId: string;
  anonymizedAt: string;
  /** True when the customer had been erased before (this call only repeated the clean-up). */
  alreadyAnonymized: boolean;
  counts: {
    orders: number;
    reviews: number;
    carts: number;
    customizations: number;
    addresses: number;
    idempotencyRecords: number;
    sessions: number;
    uploads: number;
    invoices: number;
  };
}

/** The orders of an erased customer whose stored copies (invoices) must be cleaned. */
interface ErasedOrders {
  orderIds: string[];
  archivedOrderIds: string[];
}
const NO_ORDERS: ErasedOrders = { orderIds: [], archivedOrderIds: [] };

/** The modules that own the customer's rows: each erases and exports its own. */
export interface PersonalDataOwners {
  customers: Pick<CustomersService, 'lockForErasure' | 'erase' | 'exportOf'>;
  addresses: Pick<AddressesService, 'deleteOfCustomer' | 'exportOf'>;
  orders: Pick<OrdersService, 'detachCustomer' | 'customerPage'>;
  payments: Pick<PaymentsService, 'forgetPayerData' | 'exportOf'>;
  archive: Pick<ArchiveService, 'detachCustomer' | 'exportOf'>;
  reviews: Pick<ReviewsService, 'detachAuthor' | 'exportOf'>;
  carts: Pick<CartsService, 'deleteOfCustomer' | 'exportOf'>;
  idempotency: Pick<IdempotencyService, 'forgetScope'>;
  uploads: Pick<UploadsService, 'forgetOwner'>;
}

const EXPORT_PAGE = 200;
const EXPORT_LINK_SECONDS = 3600;

export class PrivacyService {
  constructor(
    private readonly deps: {
      db: Database;
      sessions: SessionStore;
      objects: ObjectStore;
      invoices: InvoicesService;
      audit: AuditService;
      owners: PersonalDataOwners;
      /** Strips the personal data from webhook deliveries about the customer and their orders (same tx). */
      redactWebhooks?: (tx: Queryable, who: { customerId: string; orderIds: string[] }) => Promise<number>;
    },
  ) {}

  /**
   * Erases a customer's personal data. `actor` names who asked (an admin key's name, the
   * customer themselves, the CLI) for the audit log, which the admin API writes by itself.
   */
  async anonymize(customerId: string, actor?: { name: string }): Promise<ErasureResult> {
    if (!isUuid(customerId)) throw AppError.notFound('Customer', { customerId });
    const { owners } = this.deps;
    const inside = await withTransaction(this.deps.db.primary, async (tx) => {
      const row = await owners.customers.lockForErasure(tx, customerId);
      if (!row) throw AppError.notFound('Customer', { customerId });
      if (row.anonymizedAt)
        return { already: true, at: row.anonymizedAt, orders: NO_ORDERS, counts: undefined };
      await owners.customers.erase(tx, customerId, `erased-${randomUUID()}@erased.invalid`);
      // Orders are kept for accounting, unlinked; what their attempts kept for the payer goes.
      const { orderIds, customizations } = await owners.orders.detachCustomer(tx, customerId);
      await owners.payments.forgetPayerData(tx, orderIds);
      const archivedOrderIds = await owners.archive.detachCustomer(tx, customerId);
      await owners.uploads.forgetOwner(tx, { customerId });
      const counts = {
        orders: orderIds.length,
        customizations,
        reviews: await owners.reviews.detachAuthor(tx, customerId),
        addresses: await owners.addresses.deleteOfCustomer(tx, customerId),
        carts: await owners.carts.deleteOfCustomer(tx, customerId),
        idempotencyRecords: await owners.idempotency.forgetScope(tx, `customer:${customerId}`),
      };
      await this.deps.redactWebhooks?.(tx, { customerId, orderIds });
      await recordEvents(tx, [
        {
          type: 'customer.anonymized',
          aggregateType: 'customer',
          aggregateId: customerId,
          payload: { customerId, orderIds, archivedOrderIds },
        },
      ]);
      return { already: false, at: new Date(), orders: { orderIds, archivedOrderIds }, counts };
    });
    // At once, for the customer's sake (their session stops working now); the consumer repeats it.
    const outside = await this.cleanOutside(customerId, inside.orders).catch(() => ({
      sessions: 0,
      uploads: 0,
      invoices: 0,
    }));
    if (actor)
      await this.deps.audit.record({
        actorKeyId: null,
        actorName: actor.name,
        action: 'anonymize customer',
        targetType: 'customers',
        targetId: customerId,
        status: 200,
        requestId: null,
        details: { categories: [...ERASED_CATEGORIES] },
      });
    return {
      customerId,
      anonymizedAt: inside.at.toISOString(),
      alreadyAnonymized: inside.already,
      counts: {
        orders: 0,
        reviews: 0,
        carts: 0,
        customizations: 0,
        addresses: 0,
        idempotencyRecords: 0,
        ...inside.counts,
        ...outside,
      },
    };
  }

  /**
   * Sessions, uploaded files, invoice copies: idempotent, safe to repeat. Uploads go with every
   * stored version (and delete marker) under the customer's prefix, so files deleted earlier go
   * too; each invoice of a hot order is rendered again without the name and its earlier versions
   * deleted by version id; the invoice of an archived order is deleted with all its versions.
   */
  private async cleanOutside(
    customerId: string,
    orders: ErasedOrders,
  ): Promise<{ sessions: number; uploads: number; invoices: number }> {
    const sessions = await this.deps.sessions.destroyForCustomer(customerId);
    const uploads = await purgeVersions(this.deps.objects, 'userUploads', uploadPrefix({ customerId }), {
      keepLatest: false,
    });
    let invoices = 0;
    for (const orderId of orders.orderIds) if (await this.deps.invoices.rerender(orderId)) invoices++;
    for (const orderId of orders.archivedOrderIds) if (await this.deps.invoices.destroy(orderId)) invoices++;
    return { sessions, uploads, invoices };
  }

  /** Repeats the clean-up outside the database until it succeeds (the bus retries a failure). */
  consumer(): ConsumerSpec {
    const ids = (v: unknown) => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);
    return defineConsumer({
      name: 'privacy-eraser',
      bindings: ['customer.anonymized'],
      handler: async (event) => {
        const p = event.payload;
        await this.cleanOutside(event.aggregateId, {
          // Events recorded before this release name only the invoiced orders.
          orderIds: [...ids(p.orderIds), ...ids(p.invoicedOrderIds)],
          archivedOrderIds: ids(p.archivedOrderIds),
        });
      },
    });
  }

  /**
   * Everything held about a live customer, as one JSON document, produced piece by piece (orders a
   * page at a time), so a long history never sits in memory whole.
   */
  async *export(customerId: string): AsyncGenerator<string> {
    const { owners } = this.deps;
    const customer = isUuid(customerId) ? await owners.customers.exportOf(customerId) : undefined;
    if (!customer) throw AppError.notFound('Customer', { customerId });
    const json = (v: unknown) => JSON.stringify(v);
    const addresses = [...customer.addresses, ...(await owners.addresses.exportOf(customerId))];
    yield `{"exportedAt":${json(new Date().toISOString())},"profile":${json(customer.profile)},"addresses":${json(
      addresses,
    )},"orders":[`;
    let after: { createdAt: string; id: string } | undefined;
    let first = true;
    for (;;) {
      const page = await owners.orders.customerPage(customerId, after, EXPORT_PAGE);
      const payments = await owners.payments.exportOf(page.map((o) => o.id));
      for (const o of page) {
        yield (first ? '' : ',') + json({ ...o.order, payments: payments.get(o.id) ?? [] });
        first = false;
      }
      if (page.length < EXPORT_PAGE) break;
      const last = page[page.length - 1]!;
      after = { createdAt: last.created_at, id: last.id };
    }
    yield `],"archivedOrders":${json(await owners.archive.exportOf(customerId))}`;
    yield `,"reviews":${json(await owners.reviews.exportOf(customerId))}`;
    yield `,"carts":${json(await owners.carts.exportOf(customerId))},"uploads":[`;
    first = true;
    for await (const o of this.deps.objects.list('userUploads', uploadPrefix({ customerId }))) {
      const url = await this.deps.objects.signedGetUrl('userUploads', o.key, EXPORT_LINK_SECONDS);
      yield (
        (first ? '' : ',') + json({ key: o.key, size: o.size, url, urlExpiresInSeconds: EXPORT_LINK_SECONDS })
      );
      first = false;
    }
    const sessions = await this.deps.sessions.listForCustomer(customerId);
    yield `],"sessions":${json(sessions.map((s) => ({ createdAt: s.createdAt.toISOString() })))}}`;
  }
}
