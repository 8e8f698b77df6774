import { createHash } from 'node:crypto';

export interface ChargeRequest {
  attemptId: string;
  orderId: string;
  amount: number;
  currency: string;
  /** A provider token for the payment method (card token, PIX key...). */
  paymentMethod: string;
}

export type ChargeResult =
  { status: 'succeeded'; reference: string } | { status: 'failed'; reason: string; reference?: string };

/** The port to a payment provider. Real adapters (Stripe, Pagar.me, Mercado Pago...) plug in here. */
export interface PaymentProvider {
  readonly name: string;
  /** False: payments are refused before anything is written (no provider configured). */
  readonly enabled: boolean;
  charge(request: ChargeRequest): Promise<ChargeResult>;
}

/**
 * A deterministic provider for development and tests. It fails when told to: the payment method
 * `tok_fail_<reason>` fails with `<reason>` (e.g. `tok_fail_card_declined`); any other token
 * succeeds. References are derived from the attempt id, so reruns agree.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test';
  readonly enabled = true;

  charge(request: ChargeRequest): Promise<ChargeResult> {
    const reference = `test_${createHash('sha256').update(request.attemptId).digest('hex').slice(0, 24)}`;
    const m = /^tok_fail_([a-z0-9_]{1,60})$/.exec(request.paymentMethod);
    return Promise.resolve(
      m ? { status: 'failed', reason: m[1]!, reference } : { status: 'succeeded', reference },
    );
  }
}

/** No provider configured (`PAYMENT_PROVIDER=none`, the default next to a configured database). */
export class NoPaymentProvider implements PaymentProvider {
  readonly name = 'none';
  readonly enabled = false;

  charge(): Promise<ChargeResult> {
    return Promise.reject(new Error('no payment provider is configured'));
  }
}

export function createPaymentProvider(name: 'test' | 'none'): PaymentProvider {
  return name === 'test' ? new TestPaymentProvider() : new NoPaymentProvider();
}
