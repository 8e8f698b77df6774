/**
 * Checkout: the one use case that turns a request into an order, across modules. It places an
 * order from lines (`POST /store/orders`) or from a cart, at most once per Idempotency-Key, for a
 * customer, a guest with a session, or a guest without one (who gets a session on the way).
 *
 * Every order goes the same way: the caller's session → the draft (who orders what, from where)
 * → the steps that check or complete the draft → one of three ways of writing it, chosen here
 * (see {@link wayOf} and docs/decisions/0003-one-statement-orders.md). Adding a step (price a
 * line, apply a discount, add freight) is adding it to {@link steps}; the draft carries its
 * result to whichever way writes the order. Stock notifications and cache evictions run after
 * the commit (`tx.afterCommit`), never for a replay.
 */
import { randomUUID } from 'node:crypto';
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError, RecordedAnswer } from '../../platform/errors.ts';
import type { GuestSessions } from '../../platform/sessions/guest-sessions.ts';
import type { Session } from '../../platform/sessions/session-store.ts';
import type {
  ErrorToResponse,
  IdempotencyService,
  KeyClaim,
  StoredResponse,
} from '../idempotency/idempotency.service.ts';
import type { Cart, CartsService } from '../carts/carts.service.ts';
import type { BuyerInput } from '../customers/brazil.schemas.ts';
import type { DeliveryService } from './delivery.service.ts';
import {
  ownerOf,
  type Order,
  type OrderDraft,
  type OrderLineInput,
  type OrdersService,
} from '../orders/orders.service.ts';
import type { UploadsService } from '../uploads/uploads.service.ts';
import type { PromotionsService, Quote } from '../promotions/promotions.service.ts';
import type { DeliveryDraft } from './delivery.service.ts';

/** The shortest Idempotency-Key accepted from a caller without a session (a UUID has 36 characters). */
export const MIN_GUEST_KEY_LENGTH = 32;

/** Who is checking out. */
export interface CheckoutCaller {
  /** The caller's live session, if they presented one. */
  session: Session | undefined;
  /** The client address: the idempotency scope of a caller without a session. */
  address: string;
}

export interface CheckoutRequest {
  caller: CheckoutCaller;
  /** The Idempotency-Key, already checked for shape. */
  key?: string;
  /** What is being asked (route and canonical input): a key reused for something else is refused. */
  fingerprint: unknown;
  /** Which failures are this request's answer, to replay for the same key (client errors). */
  replayable: ErrorToResponse;
}

/** A placed order (or the replay of one). A replayed refusal is thrown as a {@link RecordedAnswer}. */
export interface CheckoutResult {
  order: Order;
  /** The token of a guest session created for this request (or for the first one, on a replay). */
  sessionToken?: string;
  replayed: boolean;
}

/** A step of every checkout: checks the draft (throws to refuse) or completes it. */
type Step = (draft: OrderDraft) => void | Promise<void>;

/** Where the lines come from: the request, or the caller's cart (read in the order's transaction). */
type Source = { lines: OrderLineInput[] } | { cartId: string; buyer?: BuyerInput };

/**
 * How the order is written. `statement`: one statement, nothing else to commit with it (no key,
 * one product). `claiming`: one statement that also claims the Idempotency-Key (keyed, one
 * product). `transaction`: a transaction, with the key's answer stored in it when keyed (several
 * products, or a cart, whose lines are read and marked in the same transaction).
 */
export type Way = 'statement' | 'claiming' | 'transaction';

export class CheckoutService {
  /** What every draft goes through before it is written, in order. */
  private readonly steps: Step[];

  constructor(
    private readonly deps: {
      db: Database;
      guests: GuestSessions;
      idempotency: IdempotencyService;
      orders: OrdersService;
      carts: CartsService;
      uploads: UploadsService;
      delivery: DeliveryService;
      promotions: Pick<PromotionsService, 'quote' | 'redeem'>;
    },
  ) {
    this.steps = [
      // A customization file must be one of the orderer's own uploads.
      (draft) => deps.uploads.assertOwnUploads(draft.owner, draft.lines),
    ];
  }

  /** Places an order of these lines; a caller without a session gets a guest session. */
  placeOrder(request: CheckoutRequest & { lines: OrderLineInput[] }): Promise<CheckoutResult> {
    return this.place(request, { lines: request.lines });
  }

  /**
   * Places the order of the caller's active cart; the caller must hold the cart's session. The
   * order carries the cart's address, buyer (`buyer` here, else the cart's, else the customer's
   * profile) and chosen freight, re-priced first when its quote expired (see DeliveryService).
   */
  async checkoutCart(
    request: CheckoutRequest & { cartId: string; buyer?: BuyerInput },
  ): Promise<CheckoutResult> {
    const session = request.caller.session;
    if (!session) throw AppError.notFound('Cart', { cartId: request.cartId });
    await this.deps.delivery.refresh(
      { sessionId: session.id, customerId: session.customerId },
      request.cartId,
    );
    return this.place(request, {
      cartId: request.cartId,
      ...(request.buyer ? { buyer: request.buyer } : {}),
    });
  }

  /** The way an order from `source` is written, with or without a key (see {@link Way}). */
  wayOf(source: Source, keyed: boolean): Way {
    if (!('lines' in source) || !this.deps.orders.placesInOneStatement(source.lines)) return 'transaction';
    return keyed ? 'claiming' : 'statement';
  }

  private async place(request: CheckoutRequest, source: Source): Promise<CheckoutResult> {
    const existing = request.caller.session;
    this.checkGuestKey(existing, request.key);
    // A guest without a session gets one now, before the transaction: creating it inside would
    // hold one pooled connection while waiting for another, and a burst would starve the pool.
    const created = existing ? undefined : await this.deps.guests.create(request.caller.address);
    const session = existing ?? created!.session;
    // The caps on what a holder keeps unpaid are checked by the order's own statement or
    // transaction (OrdersService, race-free), so a retry of an order already placed is replayed,
    // never refused by them.
    try {
      const outcome = await this.write(request, source, session, created?.token);
      // A replay answers with the first request's session; the one made for this retry is not needed.
      if (outcome.replayed && created) await this.deps.guests.discard(created.token);
      const { status, body, secret } = outcome.response;
      if (status !== 201) throw new RecordedAnswer(status, body);
      return {
        order: body as Order,
        ...(secret ? { sessionToken: secret } : {}),
        replayed: outcome.replayed,
      };
    } catch (error) {
      // The request failed: the guest session made for it leads nowhere.
      if (created && !(error instanceof RecordedAnswer))
        await this.deps.guests.discard(created.token).catch(() => undefined);
      throw error;
    }
  }

  /** Without a session the key is all that proves a retry comes from the first caller. */
  private checkGuestKey(session: Session | undefined, key: string | undefined): void {
    if (session || key === undefined || key.length >= MIN_GUEST_KEY_LENGTH) return;
    throw new AppError(
      'invalid',
      'idempotency_key_too_weak',
      `Without a session, an Idempotency-Key must be unguessable: at least ${MIN_GUEST_KEY_LENGTH} characters (use a UUID)`,
      { details: [{ field: 'headers.idempotency-key', message: 'too short' }] },
    );
  }

  /** Writes the order the way {@link wayOf} picks; the answer, and whether it is a replay. */
  private async write(
    request: CheckoutRequest,
    source: Source,
    session: Session,
    newToken: string | undefined,
  ): Promise<{ response: StoredResponse; replayed: boolean }> {
    const { orders, idempotency, db } = this.deps;
    const answer = (order: Order): StoredResponse => ({
      status: 201,
      body: order,
      ...(newToken ? { secret: newToken } : {}),
    });
    let cart: Cart | undefined;
    const draft = async (tx?: Tx): Promise<OrderDraft> => {
      const { owner, lines, ...rest } = await this.linesOf(source, session, tx);
      cart = rest.cart;
      const d: OrderDraft = {
        owner,
        lines,
        address: request.caller.address,
        // A session made for this request holds nothing yet (see OrderDraft.freshOwner).
        freshOwner: newToken !== undefined,
      };
      for (const step of this.steps) await step(d);
      return d;
    };
    const inTransaction = async (tx: Tx) => {
      const d = await draft(tx);
      // A cart's order carries its delivery: refused before any stock is reserved.
      const delivery =
        'cartId' in source && cart
          ? await this.deps.delivery.draftOf(cart, session.customerId, source.buyer)
          : undefined;
      // A cart's promotions are redeemed first: a checkout refused one never touches stock.
      const promotions = cart ? await this.redeem(tx, d, cart, delivery, session.customerId) : undefined;
      let order = await orders.placeInTx(tx, d);
      if (delivery) order = await orders.attachDelivery(tx, order, delivery);
      if (promotions) order = await this.discount(tx, order, cart!, promotions);
      if ('cartId' in source) await this.deps.carts.markCheckedOut(tx, source.cartId, order.id);
      return answer(order);
    };
    const way = this.wayOf(source, request.key !== undefined);
    if (request.key === undefined) {
      const response =
        way === 'statement'
          ? answer(await orders.place(await draft()))
          : await withTransaction(db.primary, inTransaction);
      return { response, replayed: false };
    }
    const keyed = {
      scope: scopeOf(session, request.caller),
      key: request.key,
      fingerprint: request.fingerprint,
      recover: async (orderId: string) => answer(await orders.getAdmin(orderId)),
    };
    if (way === 'claiming') {
      const claimed = await idempotency.runClaimed(
        keyed,
        newToken,
        async (claim: KeyClaim) => {
          const order = await orders.placeClaimed(await draft(), claim);
          return { response: answer(order), orderId: order.id };
        },
        request.replayable,
      );
      // Undefined: the key is held by an expired answer, which the transactional way takes over.
      if (claimed) return claimed;
    }
    return idempotency.run(keyed, inTransaction, request.replayable);
  }

  /**
   * A cart's promotions, in the order's transaction before anything is reserved: priced on the
   * cart's lines (read under its lock) and freight, and redeemed exactly under the order's id
   * (see PromotionsService.redeem). A code on the cart that cannot be used now refuses the order
   * (409 `promotion_exhausted` / `promotion_expired`, 404 `promotion_not_found`) rather than place
   * it at a price the shopper was not shown; the transaction rolls back, stock and cart intact.
   * A code that gives these lines nothing (below its minimum, no matching line) was shown so on
   * the cart and refuses nothing. Undefined: no promotion applies.
   */
  private async redeem(
    tx: Tx,
    draft: OrderDraft,
    cart: Cart,
    delivery: DeliveryDraft | undefined,
    customerId: string | null,
  ): Promise<Quote | undefined> {
    const buyer = {
      customerId,
      document: delivery?.buyer?.document?.number ?? null,
      email: delivery?.buyer?.email ?? null,
    };
    const quote = await this.deps.promotions.quote(
      {
        lines: cart.items.map((l) => ({
          key: l.id,
          productId: l.productId,
          variantId: l.variantId,
          unitPrice: l.unitPrice,
          quantity: l.quantity,
        })),
        shipping: delivery?.shipping?.price ?? 0,
        codes: cart.promotionCodes,
        buyer,
      },
      tx,
    );
    refuseUnusableCodes(quote);
    if (quote.discounts.length === 0) return undefined;
    draft.id = randomUUID();
    await this.deps.promotions.redeem(tx, { orderId: draft.id, buyer, pricing: quote });
    return quote;
  }

  /**
   * Takes the redeemed promotions off the order just placed from the cart. The order's lines are
   * the cart's, in its order, at the prices read in the same transaction; a price changed in
   * between (an admin's edit committed at that instant) refuses the checkout: 409 `price_changed`.
   */
  private async discount(tx: Tx, order: Order, cart: Cart, quote: Quote): Promise<Order> {
    const same =
      order.items.length === cart.items.length &&
      order.items.every((item, i) => {
        const line = cart.items[i]!;
        return item.unitPrice === line.unitPrice && item.quantity === line.quantity;
      });
    if (!same)
      throw AppError.conflict(
        'price_changed',
        'A price changed during checkout: review the cart and try again',
      );
    return this.deps.orders.applyDiscounts(tx, order, {
      lineDiscounts: quote.lines.map((l) => l.discountAmount),
      itemDiscount: quote.itemDiscount,
      shippingDiscount: quote.shippingDiscount,
      discounts: quote.discounts,
    });
  }

  /** Who orders what: the request's lines for its session's owner, or the cart's (locked in `tx`). */
  private async linesOf(
    source: Source,
    session: Session,
    tx: Tx | undefined,
  ): Promise<Pick<OrderDraft, 'owner' | 'lines'> & { cart?: Cart }> {
    if ('lines' in source) return { owner: ownerOf(session), lines: source.lines };
    const caller = { sessionId: session.id, customerId: session.customerId };
    return this.deps.carts.linesForCheckout(tx!, caller, source.cartId);
  }
}

/** The idempotency scope: the customer, else the session a request came with, else its address. */
function scopeOf(session: Session, caller: CheckoutCaller): string {
  if (!caller.session) return `ip:${caller.address}`;
  return session.customerId ? `customer:${session.customerId}` : `session:${session.id}`;
}

/** Why a code on a cart stops its checkout: it cannot be used now (see CheckoutService.discount). */
const BLOCKING: Record<string, { status: 'conflict' | 'not_found'; code: string; message: string }> = {
  usage_limit: {
    status: 'conflict',
    code: 'promotion_exhausted',
    message: 'This promotion has been used as many times as it allows',
  },
  customer_limit: {
    status: 'conflict',
    code: 'promotion_exhausted',
    message: 'This promotion has been used as many times as it allows',
  },
  ended: { status: 'conflict', code: 'promotion_expired', message: 'This promotion has ended' },
  not_found: { status: 'not_found', code: 'promotion_not_found', message: 'No promotion has this code' },
};

function refuseUnusableCodes(quote: Quote): void {
  for (const n of quote.notApplied) {
    const block = n.code === undefined ? undefined : BLOCKING[n.reason];
    if (block)
      throw new AppError(block.status, block.code, block.message, {
        details: { code: n.code, reason: n.reason },
      });
  }
}
