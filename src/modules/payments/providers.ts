/** The payment provider chosen by configuration (PAYMENT_PROVIDER). */
import { MercadoPagoPaymentProvider, type MercadoPagoProviderOptions } from './mercadopago-provider.ts';
import {
  NoPaymentProvider,
  TestPaymentProvider,
  type PaymentMethod,
  type PaymentProvider,
} from './payment-provider.ts';
import { StripePaymentProvider, type StripeProviderOptions } from './stripe-provider.ts';

export function createPaymentProvider(config: {
  provider: 'test' | 'stripe' | 'mercadopago' | 'none';
  methods: readonly PaymentMethod[];
  stripe?: Omit<StripeProviderOptions, 'methods'>;
  mercadopago?: Omit<MercadoPagoProviderOptions, 'methods'>;
}): PaymentProvider {
  if (config.provider === 'stripe')
    return new StripePaymentProvider({ ...config.stripe!, methods: config.methods });
  if (config.provider === 'mercadopago')
    return new MercadoPagoPaymentProvider({ ...config.mercadopago!, methods: config.methods });
  if (config.provider === 'test') return new TestPaymentProvider();
  return new NoPaymentProvider();
}
