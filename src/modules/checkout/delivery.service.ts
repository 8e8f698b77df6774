/**
 * A cart's delivery, across modules: its address (typed, or one of the customer's), its buyer,
 * the freight options priced for it (shipping module) and the one chosen, and what checkout
 * needs of them. The carts module stores the snapshots; the price of the chosen option always
 * comes from the shipping module's stored quote, never from the client.
 */
import type { Database } from '../../platform/db/pool.ts';
import { AppError } from '../../platform/errors.ts';
import { isUuid } from '../../platform/ids.ts';
import type { AddressesService } from '../customers/addresses.service.ts';
import type { AddressInput, BuyerInput } from '../customers/brazil.schemas.ts';
import type { CustomersService } from '../customers/customers.service.ts';
import type { Cart, CartCaller, CartsService } from '../carts/carts.service.ts';
import type { ShippingAddress, StoredBuyer, StoredShipping } from '../orders/orders.service.ts';
import type { QuoteRequest } from '../shipping/shipping-engine.ts';
import type {
  ChosenShipping,
  EngineOutage,
  ShippingOption,
  ShippingService,
} from '../shipping/shipping.service.ts';

/** What an order placed from a cart carries besides its lines. */
export interface DeliveryDraft {
  shippingAddress: ShippingAddress;
  buyer: StoredBuyer;
  shipping: StoredShipping;
}

export class DeliveryService {
  constructor(
    private readonly deps: {
      db: Database;
      carts: CartsService;
      shipping: ShippingService;
      addresses: AddressesService;
      customers: Pick<CustomersService, 'buyerOf'>;
    },
  ) {}

  /** Sets the cart's address (typed, or `addressId` of the customer's book); the chosen option goes. */
  async setAddress(
    caller: CartCaller,
    cartId: string,
    input: AddressInput | { addressId: string },
  ): Promise<Cart> {
    let address: ShippingAddress;
    if ('addressId' in input) {
      // A guest has no address book: the id names nothing of theirs.
      if (!caller.customerId) throw AppError.notFound('Address', { addressId: input.addressId });
      const a = await this.deps.addresses.get(caller.customerId, input.addressId);
      address = {
        label: a.label,
        recipient: a.recipient,
        cep: a.cep,
        street: a.street,
        number: a.number,
        complement: a.complement,
        district: a.district,
        city: a.city,
        state: a.state,
        phone: a.phone,
      };
    } else {
      address = {
        ...input,
        label: input.label ?? null,
        complement: input.complement ?? null,
        phone: input.phone ?? null,
      };
    }
    return this.deps.carts.setDelivery(caller, cartId, {
      shippingAddress: { ...address },
      shippingMethod: null,
    });
  }

  async setBuyer(caller: CartCaller, cartId: string, buyer: BuyerInput): Promise<Cart> {
    return this.deps.carts.setDelivery(caller, cartId, {
      buyer: { ...buyer, email: buyer.email.toLowerCase() },
    });
  }

  /**
   * The freight options for the cart as it is now, stored server-side (each with an id and an
   * expiry). An engine that cannot answer is named in `unavailable`; 503 when none can. `allowed`
   * (the caller's rate limit, checked meanwhile) must resolve before any engine is asked.
   */
  async options(
    caller: CartCaller,
    cartId: string,
    allowed: Promise<void> = Promise.resolve(),
  ): Promise<{ options: ShippingOption[]; unavailable: EngineOutage[] }> {
    // The options it was offered last are read beside it (answered only once it is the caller's):
    // asked again for the same, the same ones are answered and nothing is written.
    const [cart, kept] = await Promise.all([
      this.deps.carts.get(caller, cartId),
      isUuid(cartId) ? this.deps.shipping.offered(cartId) : [],
      allowed,
    ]);
    if (cart.status !== 'active')
      throw AppError.conflict('cart_closed', `The cart is ${cart.status.replace('_', ' ')}`);
    return this.deps.shipping.quoteCart(cartId, this.requestOf(cart), kept);
  }

  /** Chooses one of the options offered to the cart as it is now; 400 `invalid_shipping_option` otherwise. */
  async choose(caller: CartCaller, cartId: string, optionId: string): Promise<Cart> {
    const cart = await this.deps.carts.get(caller, cartId);
    const chosen = await this.deps.shipping.choose(
      this.deps.db.primary,
      cartId,
      optionId,
      this.requestOf(cart),
    );
    return this.deps.carts.setDelivery(caller, cartId, { shippingMethod: { ...chosen } });
  }

  /**
   * Before checkout, outside its transaction: a chosen option whose quote expired (or whose cart
   * changed since) is priced again, the same carrier and service, and becomes the cart's. When it
   * is no longer offered the choice is removed, and checkout answers `shipping_required`.
   */
  async refresh(caller: CartCaller, cartId: string): Promise<void> {
    const cart = await this.deps.carts.get(caller, cartId).catch(() => undefined);
    const chosen = cart?.shippingMethod as ChosenShipping | null | undefined;
    if (!cart || cart.status !== 'active' || !chosen || !cart.shippingAddress) return;
    const request = this.requestOf(cart);
    if (this.deps.shipping.isValid(chosen, request)) return;
    const again = await this.deps.shipping.requote(cartId, chosen, request);
    await this.deps.carts.setDelivery(caller, cartId, { shippingMethod: again ? { ...again } : null });
  }

  /**
   * Inside the checkout's transaction, with the cart locked: the delivery of the order, or the
   * refusal. No valid option: 409 `shipping_required`. No buyer (a guest who gave none, a customer
   * without a document): 400 naming the missing field.
   */
  async draftOf(
    cart: Cart,
    customerId: string | null,
    bodyBuyer: BuyerInput | undefined,
  ): Promise<DeliveryDraft> {
    const chosen = cart.shippingMethod as ChosenShipping | null;
    if (!cart.shippingAddress || !chosen || !this.deps.shipping.isValid(chosen, this.requestOf(cart)))
      throw AppError.conflict(
        'shipping_required',
        cart.shippingAddress
          ? 'Choose a shipping option for the cart as it is now (PUT /store/carts/:id/shipping-method)'
          : 'Set a shipping address (PUT /store/carts/:id/shipping-address), then choose a shipping option',
      );
    const buyer = await this.buyerOf(cart, customerId, bodyBuyer);
    return {
      shippingAddress: cart.shippingAddress as unknown as ShippingAddress,
      buyer,
      shipping: {
        engine: chosen.engine,
        carrier: chosen.carrier,
        service: chosen.service,
        price: chosen.price,
        deliveryDays: chosen.deliveryDays,
      },
    };
  }

  private async buyerOf(
    cart: Cart,
    customerId: string | null,
    bodyBuyer: BuyerInput | undefined,
  ): Promise<StoredBuyer> {
    const given = bodyBuyer ?? (cart.buyer as BuyerInput | null) ?? undefined;
    if (given) return { name: given.name, email: given.email.toLowerCase(), document: given.document };
    const profile = customerId ? await this.deps.customers.buyerOf(customerId) : undefined;
    if (!profile)
      throw AppError.invalid('A guest checkout needs the buyer: name, email and CPF or CNPJ', [
        { field: 'buyer', message: 'required (in the checkout body, or PUT /store/carts/:id/buyer)' },
      ]);
    if (!profile.document)
      throw AppError.invalid('The buyer needs a CPF or CNPJ (on the profile, or as the checkout buyer)', [
        { field: 'buyer.document', message: 'required' },
      ]);
    return { name: profile.name, email: profile.email, document: profile.document };
  }

  /** What the cart's freight is priced on: its live lines, the configured unit package, its address. */
  private requestOf(cart: Cart): QuoteRequest {
    const address = cart.shippingAddress as { cep?: string; state?: string } | null;
    if (!address?.cep || !address.state)
      throw AppError.conflict(
        'shipping_address_required',
        'Set a shipping address first (PUT /store/carts/:id/shipping-address)',
      );
    const unit = this.deps.shipping.unitPackage;
    const live = cart.items;
    if (live.length === 0) throw AppError.conflict('cart_empty', 'The cart has no items');
    return {
      destinationCep: address.cep,
      state: address.state,
      subtotal: cart.totals.subtotal,
      lines: live.map((l) => ({
        productId: l.productId,
        quantity: l.quantity,
        unitPrice: l.unitPrice,
        ...unit,
      })),
    };
  }
}
