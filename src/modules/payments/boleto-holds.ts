/**
 * Boleto holders: a boleto keeps its order's stock for days, so what one payer document and one
 * paying address hold in pending boletos is bounded (see docs/payments.md).
 */
import { createHash } from 'node:crypto';
import type { Tx } from '../../platform/db/transaction.ts';
import { holderBusy } from '../../platform/db/pg-errors.ts';
import { AppError } from '../../platform/errors.ts';
import type { Owner } from '../orders/orders.service.ts';
import type { Payer } from './payment-provider.ts';
import { paymentsSql } from './payments.sql.ts';

export interface BoletoLimits {
  /** Whether a guest (no account) may pay by boleto. */
  guests: boolean;
  perDocument: { orders: number; units: number };
  perAddress: { orders: number; units: number };
}

/**
 * A boleto keeps the order's stock for days, so it is bounded per holder: its payer document
 * (CPF/CNPJ, validated at the route) and the paying address may hold only so many pending
 * boletos (orders and units) at once, counted over boletos whose order's hold has not ended.
 * Holders are locked one at a time inside the paying transaction (advisory locks, document then
 * address), and counted after the lock, so concurrent attempts are counted one by one. A guest
 * may pay by boleto only when the store allows it. Throws 429 / 422; returns the holder keys.
 */
export async function admitBoleto(
  tx: Tx,
  config: { boleto: BoletoLimits; pendingTtlMinutes: number; boletoExpiryDays: number },
  {
    owner,
    orderId,
    payer,
    address,
  }: { owner: Owner; orderId: string; payer: Payer | undefined; address: string | null },
): Promise<{ payerKey: string; address: string | null }> {
  const limits = config.boleto;
  if ('guestSessionId' in owner && !limits.guests)
    throw new AppError(
      'unprocessable',
      'boleto_requires_account',
      'Log in to pay by boleto: this store offers boleto to customers with an account',
    );
  if (!payer?.taxId)
    throw AppError.invalid('A boleto needs the payer', [{ field: 'payer.taxId', message: 'required' }]);
  // The document's digest, never the document: the key only has to match.
  const payerKey = createHash('sha256').update(`payer:${payer.taxId}`).digest('hex');
  try {
    await paymentsSql.lockBoletoHolders(tx, payerKey, address);
  } catch (error) {
    throw holderBusy(error) ?? error;
  }
  const held = await paymentsSql.boletosHeld(tx, {
    payerKey,
    address,
    orderId,
    ttlMinutes: config.pendingTtlMinutes,
  });
  const over = (h: { orders: number; units: number }, cap: { orders: number; units: number }) =>
    (cap.orders > 0 && h.orders + 1 > cap.orders) || (cap.units > 0 && h.units + held.units > cap.units);
  const refuse = (who: string) =>
    new AppError(
      'rate_limited',
      'too_many_pending_boletos',
      `${who} holds the most unpaid boletos allowed: pay one or wait for it to expire, or choose card or PIX`,
      { retryAfter: config.boletoExpiryDays * 86_400 },
    );
  if (over(held.document, limits.perDocument)) throw refuse('This CPF/CNPJ');
  if (address !== null && over(held.address, limits.perAddress)) throw refuse('This address');
  return { payerKey, address };
}
