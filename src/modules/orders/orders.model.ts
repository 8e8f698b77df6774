/**
 * The order as the orders module's callers see it: its shapes, its status machine, and what one
 * holder may keep unpaid. No I/O here (the service and its SQL do that).
 */
import type { OrderItemRow, OrderRow, OrderStatus } from './orders.sql.ts';

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
  customization: unknown;
}

export interface Order {
  id: string;
  status: OrderStatus;
  totalAmount: number;
  currency: string;
  customerId: string | null;
  items: OrderItem[];
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
  customization: r.customization ?? null,
});

export const toOrder = (r: OrderRow, items: OrderItemRow[]): Order => ({
  id: r.id,
  status: r.status,
  totalAmount: r.total_amount,
  currency: r.currency,
  customerId: r.customer_id,
  items: items.map(toItem),
  createdAt: r.created_at.toISOString(),
  updatedAt: r.updated_at.toISOString(),
});

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
  };
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
    created_at: string;
  }[];
}
