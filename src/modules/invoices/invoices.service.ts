/**
 * Invoices: when an order is confirmed, a worker consumer renders a PDF (pdfkit) and stores it in
 * the private invoices bucket as `invoices/{orderId}.pdf`, server-side encrypted, with metadata.
 * The write is conditional, so running the job twice stores one invoice.
 */
import PDFDocument from 'pdfkit';
import { AppError } from '../../platform/errors.ts';
import { defineConsumer, type ConsumerSpec } from '../../platform/events/bus.ts';
import { purgeVersions, type ObjectStore } from '../../platform/storage/object-store.ts';
import type { OrderPayment, OrdersService, Owner } from '../orders/orders.service.ts';
import type { CustomersService } from '../customers/customers.service.ts';
import type { CatalogService } from '../catalog/catalog.service.ts';

const INVOICED = ['confirmed', 'shipped', 'delivered'];
const URL_SECONDS = 5 * 60;

const brl = new Intl.NumberFormat('pt-BR', { style: 'currency', currency: 'BRL' });
const date = new Intl.DateTimeFormat('pt-BR', {
  dateStyle: 'long',
  timeStyle: 'short',
  timeZone: 'America/Sao_Paulo',
});

interface InvoiceData {
  orderId: string;
  createdAt: Date;
  totalAmount: number;
  customer: { name: string; email: string } | null;
  items: { name: string; quantity: number; unitPrice: number }[];
  /** How it was paid, with a card's installment plan (parcelamento). */
  payment?: OrderPayment | null;
}

const METHOD_NAMES = { card: 'Cartão de crédito', pix: 'PIX', boleto: 'Boleto' } as const;

/** The invoice's payment line: `Cartão de crédito em 6x de R$ 46,37 (total R$ 278,19, com juros)`. */
export function paymentLine(p: OrderPayment): string {
  const plan = p.installments;
  if (!plan || plan.count === 1) return METHOD_NAMES[p.method];
  return `${METHOD_NAMES[p.method]} em ${plan.count}x de ${brl.format(plan.amount / 100)} (total ${brl.format(
    plan.total / 100,
  )}, ${plan.interestFree ? 'sem juros' : 'com juros'})`;
}

export const invoiceKey = (orderId: string) => `invoices/${orderId}.pdf`;

export function renderInvoice(d: InvoiceData, generatedAt: Date): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: 'A4',
      margin: 50,
      info: { Title: `Fatura ${d.orderId}`, Author: 'ShopFlow' },
    });
    const chunks: Buffer[] = [];
    doc.on('data', (c: Buffer) => chunks.push(c));
    doc.on('end', () => resolve(Buffer.concat(chunks)));
    doc.on('error', reject);

    doc.fontSize(20).text('Fatura', { align: 'left' });
    doc.moveDown(0.5).fontSize(10);
    doc.text(`Pedido nº ${d.orderId}`);
    doc.text(`Data do pedido: ${date.format(d.createdAt)}`);
    doc.text(`Emitida em: ${date.format(generatedAt)}`);
    doc.moveDown();
    doc.fontSize(12).text('Cliente');
    doc.fontSize(10).text(d.customer ? `${d.customer.name} <${d.customer.email}>` : 'Cliente convidado');
    doc.moveDown();

    const cols = { item: 50, qty: 330, unit: 380, total: 470 };
    const y0 = doc.y;
    doc
      .fontSize(10)
      .text('Item', cols.item, y0)
      .text('Qtd.', cols.qty, y0)
      .text('Unitário', cols.unit, y0)
      .text('Total', cols.total, y0);
    doc
      .moveTo(50, doc.y + 2)
      .lineTo(545, doc.y + 2)
      .stroke();
    doc.moveDown(0.5);
    for (const it of d.items) {
      const y = doc.y;
      doc.text(it.name, cols.item, y, { width: 270 });
      const next = doc.y;
      doc
        .text(String(it.quantity), cols.qty, y)
        .text(brl.format(it.unitPrice / 100), cols.unit, y)
        .text(brl.format((it.unitPrice * it.quantity) / 100), cols.total, y);
      doc.y = Math.max(next, doc.y);
      doc.moveDown(0.3);
    }
    doc.moveDown();
    doc.fontSize(12).text(`Total: ${brl.format(d.totalAmount / 100)}`, cols.unit, doc.y, { align: 'left' });
    if (d.payment) {
      doc.moveDown();
      doc.fontSize(10).text(`Pagamento: ${paymentLine(d.payment)}`, 50, doc.y, { align: 'left' });
    }
    doc.end();
  });
}

export class InvoicesService {
  constructor(
    private readonly deps: {
      store: ObjectStore;
      orders: OrdersService;
      /** The buyer's name and email as they are now (after an erasure: the erased placeholders). */
      customers: Pick<CustomersService, 'contactOf'>;
      /** Product names, deleted products included. */
      catalog: Pick<CatalogService, 'namesOf'>;
    },
  ) {}

  /** Renders and stores the invoice unless it exists. Returns whether this call wrote it. */
  async generate(orderId: string): Promise<boolean> {
    if (await this.deps.store.head('invoices', invoiceKey(orderId))) return false;
    return this.write(orderId, { ifAbsent: true });
  }

  /**
   * Renders an existing invoice again from the order as it is now, replacing the stored PDF, then
   * deletes its earlier versions by version id (a versioned bucket keeps them): after an erasure,
   * no copy kept for tax law names the customer. Any status: an order confirmed and later
   * cancelled or refunded keeps the invoice it had. No invoice: nothing to do.
   */
  async rerender(orderId: string): Promise<boolean> {
    if (!(await this.deps.store.head('invoices', invoiceKey(orderId)))) return false;
    const written = await this.write(orderId, { ifAbsent: false, anyStatus: true });
    await purgeVersions(this.deps.store, 'invoices', invoiceKey(orderId), {
      keepLatest: true,
      exactKey: true,
    });
    return written;
  }

  /**
   * Deletes an order's invoice with every version of it (an archived order, whose lines are in
   * cold storage: its invoice is not rendered again). Returns whether there was one.
   */
  async destroy(orderId: string): Promise<boolean> {
    // A plain delete first: in a versioned, replicated bucket its delete marker is replicated, so
    // the replica's copy stops being current too (deletes by version id are not replicated).
    if (await this.deps.store.head('invoices', invoiceKey(orderId)))
      await this.deps.store.delete('invoices', invoiceKey(orderId));
    const deleted = await purgeVersions(this.deps.store, 'invoices', invoiceKey(orderId), {
      keepLatest: false,
      exactKey: true,
    });
    return deleted > 0;
  }

  private async write(
    orderId: string,
    options: { ifAbsent: boolean; anyStatus?: boolean },
  ): Promise<boolean> {
    // Everything from the primary: an invoice re-rendered after an erasure must not find the name
    // on a replica that has not seen the erasure yet.
    const order = await this.deps.orders.getAdmin(orderId).catch((error: unknown) => {
      if (error instanceof AppError && error.kind === 'not_found') return undefined;
      throw error;
    });
    if (!order || (!options.anyStatus && !INVOICED.includes(order.status))) return false;
    const customer = order.customerId ? await this.deps.customers.contactOf(order.customerId) : undefined;
    const productIds = [...new Set(order.items.flatMap((i) => (i.productId ? [i.productId] : [])))];
    const names = await this.deps.catalog.namesOf(productIds);
    const generatedAt = new Date();
    const { payment } = await this.deps.orders.withPayment(order);
    const pdf = await renderInvoice(
      {
        orderId,
        payment,
        createdAt: new Date(order.createdAt),
        totalAmount: order.totalAmount,
        customer: customer ?? null,
        items: order.items.map((i) => ({
          name: (i.productId && names.get(i.productId)) ?? 'Produto',
          quantity: i.quantity,
          unitPrice: i.unitPrice,
        })),
      },
      generatedAt,
    );
    return this.deps.store.put('invoices', invoiceKey(orderId), pdf, {
      contentType: 'application/pdf',
      metadata: { orderId, generatedAt: generatedAt.toISOString() },
      ifAbsent: options.ifAbsent,
    });
  }

  /** The owner's download link, 202 pending while it is generated, 404 for anyone else. */
  async link(
    owner: Owner,
    orderId: string,
  ): Promise<{ status: 'ready'; url: string; expiresAt: string } | { status: 'pending' }> {
    const order = await this.deps.orders.getOwned(owner, orderId);
    if (!INVOICED.includes(order.status))
      throw AppError.notFound('Invoice', { orderId, reason: 'the order is not confirmed yet' });
    if (!(await this.deps.store.head('invoices', invoiceKey(orderId)))) return { status: 'pending' };
    return {
      status: 'ready',
      url: await this.deps.store.signedGetUrl('invoices', invoiceKey(orderId), URL_SECONDS),
      expiresAt: new Date(Date.now() + URL_SECONDS * 1000).toISOString(),
    };
  }

  /** Renders the invoice of each confirmed order (idempotent: an existing invoice is kept). */
  consumer(): ConsumerSpec {
    return defineConsumer({
      name: 'invoices',
      bindings: ['order.status_changed'],
      handler: async (event) => {
        if (event.payload.status === 'confirmed') await this.generate(event.aggregateId);
      },
    });
  }
}
