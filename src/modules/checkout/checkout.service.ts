/**
 * Checkout: the use case that turns a request into an order, across modules. It places an order
 * from lines (`POST /store/orders`) or from a cart, at most once per Idempotency-Key, for a
 * customer, a guest with a session, or a guest without one (who gets a session on the way). The
 * stock notification and cache eviction run after the commit, collected by the transaction
 * (`tx.afterCommit`), never for a replay.
 */
import type { Database } from '../../platform/db/pool.ts';
import { withTransaction, type Tx } from '../../platform/db/transaction.ts';
import { AppError } from '../../platform/errors.ts';
import type { Session, SessionStore } from '../../platform/sessions/session-store.ts';
import type {
  ErrorToResponse,
  IdempotencyService,
  KeyClaim,
  StoredResponse,
} from '../idempotency/idempotency.service.ts';
import type { CartsService } from '../carts/carts.service.ts';
import { ownerOf, type Order, type OrderLineInput, type OrdersService } from '../orders/orders.service.ts';
import type { UploadsService } from '../uploads/uploads.service.ts';
import type { RateLimiter } from '../../platform/ratelimit/rate-limiter.ts';
import { allowGuestSession } from '../../http/session.ts';

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

export interface CheckoutResult {
  status: number;
  body: Order;
  /** The token of a guest session created for this request (or for the first one, on a replay). */
  sessionToken?: string;
  replayed: boolean;
}

export class CheckoutService {
  constructor(
    private readonly deps: {
      db: Database;
      sessions: SessionStore;
      idempotency: IdempotencyService;
      orders: OrdersService;
      carts: CartsService;
      uploads: UploadsService;
      /** Guest sessions one address may create (a checkout without a session makes one). */
      guestSessions?: RateLimiter;
    },
  ) {}

  /** Places an order of these lines; a caller without a session gets a guest session. */
  placeOrder(request: CheckoutRequest & { lines: OrderLineInput[] }): Promise<CheckoutResult> {
    const check = (session: Session) => this.deps.uploads.assertOwnUploads(ownerOf(session), request.lines);
    const { address } = request.caller;
    return this.run(request, {
      createSession: true,
      inTx: (tx, session) => {
        check(session);
        return this.deps.orders.placeInTx(tx, ownerOf(session), request.lines, address);
      },
      // Without a key there is no stored response to commit alongside: the order can be placed on
      // its own (one statement for one product).
      direct: (session) => {
        check(session);
        return this.deps.orders.place(ownerOf(session), request.lines, address);
      },
      // With a key, an order of one product claims the key in the statement placing it.
      ...(this.deps.orders.placesInOneStatement(request.lines)
        ? {
            claimed: (session: Session, claim: KeyClaim) => {
              check(session);
              return this.deps.orders.placeClaimed(ownerOf(session), request.lines, claim, address);
            },
          }
        : {}),
    });
  }

  /** Places the order of the caller's active cart; the caller must hold the cart's session. */
  checkoutCart(request: CheckoutRequest & { cartId: string }): Promise<CheckoutResult> {
    const session = request.caller.session;
    if (!session) throw AppError.notFound('Cart', { cartId: request.cartId });
    const who = { sessionId: session.id, customerId: session.customerId };
    return this.run(request, {
      createSession: false,
      inTx: (tx) => {
        this.deps.orders.placingFrom(tx, request.caller.address);
        return this.deps.carts.checkoutInTx(tx, who, request.cartId);
      },
    });
  }

  private async run(
    request: CheckoutRequest,
    placement: {
      createSession: boolean;
      inTx: (tx: Tx, session: Session) => Promise<Order>;
      direct?: (session: Session) => Promise<Order>;
      claimed?: (session: Session, claim: KeyClaim) => Promise<Order>;
    },
  ): Promise<CheckoutResult> {
    const existing = request.caller.session;
    if (!existing && !placement.createSession) throw AppError.unauthorized('A session is required');
    // Without a session the key is all that proves a retry comes from the first caller (whose new
    // session token the replay hands back): it must be unguessable, e.g. a UUID.
    if (!existing && request.key !== undefined && request.key.length < MIN_GUEST_KEY_LENGTH) {
      throw new AppError(
        'invalid',
        'idempotency_key_too_weak',
        `Without a session, an Idempotency-Key must be unguessable: at least ${MIN_GUEST_KEY_LENGTH} characters (use a UUID)`,
        { details: [{ field: 'headers.idempotency-key', message: 'too short' }] },
      );
    }
    // The caps on what a holder keeps unpaid are checked by the order's own statement or
    // transaction (OrdersService, race-free), so a retry of an order already placed is replayed,
    // never refused by them.
    const scope = existing
      ? existing.customerId
        ? `customer:${existing.customerId}`
        : `session:${existing.id}`
      : `ip:${request.caller.address}`;
    // A guest without a session gets one now, before the transaction: creating it inside would
    // hold one pooled connection while waiting for another, and a burst would starve the pool.
    if (!existing) await allowGuestSession(this.deps.guestSessions, request.caller.address);
    const created = existing ? undefined : await this.deps.sessions.create({ customerId: null });
    const session = existing ?? created!.session;
    const answer = (order: Order): StoredResponse => ({
      status: 201,
      body: order,
      ...(created ? { secret: created.token } : {}),
    });

    let outcome: { response: StoredResponse; replayed: boolean };
    try {
      if (request.key === undefined) {
        const order = placement.direct
          ? await placement.direct(session)
          : await withTransaction(this.deps.db.primary, (tx) => placement.inTx(tx, session));
        outcome = { response: answer(order), replayed: false };
      } else {
        const keyed = {
          scope,
          key: request.key,
          fingerprint: request.fingerprint,
          recover: async (orderId: string) => answer(await this.deps.orders.getAdmin(orderId)),
        };
        const claimed = placement.claimed;
        outcome =
          (claimed &&
            (await this.deps.idempotency.runClaimed(
              keyed,
              created?.token,
              async (claim) => {
                const order = await claimed(session, claim);
                return { response: answer(order), orderId: order.id };
              },
              request.replayable,
            ))) ||
          (await this.deps.idempotency.run(
            keyed,
            async (tx) => answer(await placement.inTx(tx, session)),
            request.replayable,
          ));
      }
    } catch (error) {
      // The request failed: the guest session made for it leads nowhere.
      if (created) await this.deps.sessions.destroy(created.token).catch(() => undefined);
      throw error;
    }
    // A replay answers with the first request's session; the one made for this retry is not needed.
    if (outcome.replayed && created) await this.deps.sessions.destroy(created.token);
    const { response } = outcome;
    return {
      status: response.status,
      body: response.body as Order,
      ...(response.secret ? { sessionToken: response.secret } : {}),
      replayed: outcome.replayed,
    };
  }
}
