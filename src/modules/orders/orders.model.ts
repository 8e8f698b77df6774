/**
 * The order as the orders module's callers see it: its shapes, its status machine, and what one
 * holder may keep unpaid. No I/O here (the service and its SQL do that).
 */
import type {
  OrderDiscount,
  OrderItemRow,
  OrderRow,
  OrderStatus,
  ShippingAddress,
  StoredBuyer,
  StoredShipping,
} from './orders.sql.ts';
import type { ActorType, FulfillmentRow, OrderEventRow } from './delivery.sql.ts';
import { formatDocument, maskDocument } from '../customers/documents.ts';

export type { OrderStatus };

/**
 * A line as asked: a variant, or a product that has exactly one variant (clients from before
 * variants). At least one of the two.
 */
export interface OrderLineInput {
  productId?: string | undefined;
  variantId?: string | undefined;
  quantity: number;
  customization?: Record<string, unknown> | null;
}

/** Who an order belongs to: a customer, or a guest's session (hex SHA-256 of its token). */
export type Owner = { customerId: string } | { guestSessionId: string };

/**
 * What is being ordered, by whom, from where: the one input of every way an order is placed (see
 * the checkout module, which builds it and picks the way). A step of checkout that completes the
 * order (prices, discounts, freight) adds to it, and every way of placing reads it.
 */
export interface OrderDraft {
  owner: Owner;
  lines: OrderLineInput[];
  /** The client address the unpaid order is held by (caps per address); null: none known. */
  address: string | null;
  /**
   * True when the owner is a guest session made for this very request: nobody else knows it yet
   * and it holds nothing, so its caps are checked against this order alone, without the per-owner
   * lock and count (a sessionless order, the API's one-call checkout, pays nothing for them).
   */
  freshOwner?: boolean;
  /**
   * The order's id, when a step writes under it before the order is placed (promotions redeem
   * under it first, so a checkout refused a promotion never touches stock). Default: a new one.
   */
  id?: string;
}

/** The owner of what a session orders: its customer when logged in, else the guest session. */
export const ownerOf = (s: { id: string; customerId: string | null }): Owner =>
  s.customerId ? { customerId: s.customerId } : { guestSessionId: s.id };

export interface OrderItem {
  id: string;
  productId: string | null;
  /** The variant sold, as it was when the order was placed (later edits change nothing here). */
  variantId: string | null;
  sku: string | null;
  options: Record<string, string>;
  name: string | null;
  quantity: number;
  unitPrice: number;
  /** The line's share of the order's item discounts, to the centavo (0 without one). */
  discountAmount: number;
  customization: unknown;
}

export interface OrderTotals {
  subtotal: number;
  discount: number;
  shipping: number;
  total: number;
}

export interface Fulfillment {
  id: string;
  carrier: string;
  trackingCode: string;
  trackingUrl: string | null;
  items: { orderItemId: string; quantity: number }[];
  createdAt: string;
}

export interface OrderHistoryEntry {
  type: string;
  at: string;
  actor: { type: ActorType; name: string | null };
  data: Record<string, unknown>;
}

export interface Order {
  id: string;
  status: OrderStatus;
  /** Goods minus discount plus freight: what a payment charges. */
  totalAmount: number;
  currency: string;
  customerId: string | null;
  items: OrderItem[];
  totals: OrderTotals;
  /** The promotions on the order as placed (free shipping: the freight it waived). */
  discounts: OrderDiscount[];
  /** The delivery address (a snapshot), the buyer and the freight; null on orders without them. */
  shippingAddress: ShippingAddress | null;
  buyer: { name: string; email: string; document: { type: string; number: string } | null } | null;
  shipping: {
    carrier: string;
    service: string;
    price: number;
    deliveryDays: { min: number; max: number };
  } | null;
  /** Present on a single order (not in lists). */
  fulfillments?: Fulfillment[];
  history?: OrderHistoryEntry[];
  createdAt: string;
  updatedAt: string;
}

export interface Shortfall {
  productId: string;
  variantId: string;
  sku: string;
  requested: number;
  available: number;
}

/** The status machine: which statuses each status may move to. */
export const TRANSITIONS: Record<OrderStatus, readonly OrderStatus[]> = {
  pending: ['confirmed', 'cancelled'],
  confirmed: ['shipped', 'cancelled'],
  // A whole refund: of a cancelled order (its stock went back when it was cancelled), or of goods
  // sent (lost, returned). Only the payments module moves an order here, once the money is back.
  shipped: ['delivered', 'refunded'],
  delivered: ['refunded'],
  cancelled: ['refunded'],
  refunded: [],
};

/** Whether an order may move from one status to another. */
export const canTransition = (from: OrderStatus, to: OrderStatus): boolean => TRANSITIONS[from].includes(to);

/** The statuses an order may come from to reach `to` (the guard of the UPDATE). */
export const sourcesOf = (to: OrderStatus): OrderStatus[] =>
  (Object.keys(TRANSITIONS) as OrderStatus[]).filter((from) => canTransition(from, to));

export const toItem = (r: OrderItemRow): OrderItem => ({
  id: r.id,
  productId: r.product_id,
  // A line from before variants sold its product's default variant, which has the product's id.
  variantId: r.variant_id ?? r.product_id,
  sku: r.sku,
  options: r.options ?? {},
  name: r.product_name,
  quantity: r.quantity,
  unitPrice: r.unit_price,
  discountAmount: r.discount_amount ?? 0,
  customization: r.customization ?? null,
});

/** The buyer as answered: the document in full for its owner and the admin, else masked. */
const showBuyer = (b: StoredBuyer, fullDocument: boolean): NonNullable<Order['buyer']> => ({
  name: b.name,
  email: b.email,
  document: b.document
    ? {
        type: b.document.type,
        number: fullDocument ? formatDocument(b.document) : maskDocument(b.document),
      }
    : null,
});

const showShipping = (s: StoredShipping): NonNullable<Order['shipping']> => ({
  carrier: s.carrier,
  service: s.service,
  price: s.price,
  deliveryDays: s.deliveryDays,
});

/** The totals of an order: freight and discount as stored (0 on orders without them). */
export const totalsOf = (
  r: Pick<OrderRow, 'total_amount' | 'shipping_amount' | 'discount_amount'>,
): OrderTotals => {
  const shipping = r.shipping_amount ?? 0;
  const discount = r.discount_amount ?? 0;
  return { subtotal: r.total_amount - shipping + discount, discount, shipping, total: r.total_amount };
};

export const toOrder = (r: OrderRow, items: OrderItemRow[], fullDocument = false): Order => ({
  id: r.id,
  status: r.status,
  totalAmount: r.total_amount,
  currency: r.currency,
  customerId: r.customer_id,
  items: items.map(toItem),
  totals: totalsOf(r),
  discounts: r.discounts ?? [],
  shippingAddress: r.shipping_address ?? null,
  buyer: r.buyer ? showBuyer(r.buyer, fullDocument) : null,
  shipping: r.shipping ? showShipping(r.shipping) : null,
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

export const toFulfillment = (r: FulfillmentRow): Fulfillment => ({
  id: r.id,
  carrier: r.carrier,
  trackingCode: r.tracking_code,
  trackingUrl: r.tracking_url,
  items: r.items,
  createdAt: r.created_at.toISOString(),
});

export const toHistoryEntry = (r: OrderEventRow): OrderHistoryEntry => ({
  type: r.type,
  at: r.at.toISOString(),
  actor: { type: r.actor_type, name: r.actor },
  data: r.data,
});

/**
 * The tracking page of a shipment, for the carriers we know (by name, case-insensitive); null for
 * others. The code is URL-encoded.
 */
export function trackingUrlOf(carrier: string, code: string): string | null {
  const c = encodeURIComponent(code);
  const key = carrier
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z]/g, '');
  if (key.startsWith('correios') || key === 'sedex' || key === 'pac')
    return `https://rastreamento.correios.com.br/app/index.php?objeto=${c}`;
  if (key.startsWith('jadlog')) return `https://www.jadlog.com.br/jadlog/tracking?cte=${c}`;
  if (key.startsWith('loggi')) return `https://www.loggi.com/rastreador/${c}`;
  if (key.startsWith('melhorenvio')) return `https://www.melhorrastreio.com.br/rastreio/${c}`;
  if (key.startsWith('azul'))
    return `https://www.azulcargoexpress.com.br/Rastreio/Rastreio/Rastrear?codigo=${c}`;
  return null;
}

/**
 * What one holder may keep unpaid (see HoldAdmission): the orders and units of an address and of
 * a customer or guest session, over pending orders whose hold has not ended. 0: no limit.
 */
export interface HoldLimits {
  /** Minutes an unpaid order without a later payment hold keeps its stock. */
  ttlMinutes: number;
  perAddress: { orders: number; units: number };
  perOwner: { orders: number; units: number };
  /** Units one order line may ask for. */
  maxUnitsPerLine: number;
}

/** Off: no per-holder limit (tools and tests that place orders directly). */
export const NO_HOLD_LIMITS: HoldLimits = {
  ttlMinutes: 30,
  perAddress: { orders: 0, units: 0 },
  perOwner: { orders: 0, units: 0 },
  maxUnitsPerLine: 10_000,
};

/** The statuses an order ends in: only such orders are archived. */
export const FINAL_STATUSES: OrderStatus[] = ['delivered', 'cancelled', 'refunded'];

/** An order with its items as archival copies it: every column, timestamps as PostgreSQL text. */
export interface ArchivableOrder {
  order: {
    id: string;
    customer_id: string | null;
    guest_session_id: string | null;
    status: string;
    total_amount: number;
    currency: string;
    created_at: string;
    updated_at: string;
    /** Absent in archive objects written before issue 29. */
    shipping_address?: ShippingAddress | null;
    buyer?: StoredBuyer | null;
    shipping?: StoredShipping | null;
    shipping_amount?: number | null;
    discount_amount?: number | null;
    /** Absent in archive objects written before issue 30. */
    discounts?: OrderDiscount[] | null;
  };
  /** Absent in archive objects written before issue 29. */
  fulfillments?: {
    id: string;
    carrier: string;
    tracking_code: string;
    tracking_url: string | null;
    items: unknown;
    created_at: string;
  }[];
  events?: {
    type: string;
    actor_type: string;
    actor: string | null;
    data: Record<string, unknown>;
    customer_visible: boolean;
    at: string;
  }[];
  items: {
    id: string;
    product_id: string | null;
    /** Absent in archives written before variants. */
    variant_id?: string | null;
    sku?: string | null;
    options?: Record<string, string> | null;
    product_name?: string | null;
    quantity: number;
    unit_price: number;
    customization: unknown;
    /** Absent in archives written before issue 30. */
    discount_amount?: number | null;
    created_at: string;
  }[];
}
