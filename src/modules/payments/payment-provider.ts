import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';

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
 * `tok_fail_<reason>` fails with `<reason>` (e.g. `tok_fail_card_declined`); `tok_slow_<ms>`
 * succeeds after that many milliseconds (at most 5,000: a provider that takes its time); any other
 * token succeeds. References are derived from the attempt id, so reruns agree.
 */
export class TestPaymentProvider implements PaymentProvider {
  readonly name = 'test';
  readonly enabled = true;

  async charge(request: ChargeRequest): Promise<ChargeResult> {
    const slow = /^tok_slow_(\d{1,4})$/.exec(request.paymentMethod);
    if (slow) await sleep(Math.min(5000, Number(slow[1])));
    const reference = `test_${createHash('sha256').update(request.attemptId).digest('hex').slice(0, 24)}`;
    const m = /^tok_fail_([a-z0-9_]{1,60})$/.exec(request.paymentMethod);
    return m ? { status: 'failed', reason: m[1]!, reference } : { status: 'succeeded', reference };
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
