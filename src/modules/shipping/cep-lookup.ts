/**
 * The CEP lookup port: the address a CEP names, from an outside service (ViaCEP, see
 * viacep.cep-lookup.ts), cached. Never on the checkout path: a shopper can always type the address.
 */
import { AppError } from '../../platform/errors.ts';
import type { TwoLevelCache } from '../../platform/cache/two-level.cache.ts';

export interface CepAddress {
  cep: string;
  street: string;
  district: string;
  city: string;
  state: string;
}

export interface CepLookup {
  /**
   * The address of an 8-digit CEP; undefined when the service knows no such CEP. Throws
   * AppError `dependency_unavailable` when the service cannot answer (down, slow, garbled).
   */
  lookup(cep: string): Promise<CepAddress | undefined>;
}

/** A lookup cached in process and in the shared store; unknown CEPs are cached too. */
export class CachedCepLookup implements CepLookup {
  constructor(
    private readonly source: CepLookup,
    private readonly cache: TwoLevelCache,
  ) {}

  async lookup(cep: string): Promise<CepAddress | undefined> {
    const hit = await this.cache.get(cep);
    if (hit !== undefined) return (JSON.parse(hit) as { a: CepAddress | null }).a ?? undefined;
    const found = await this.source.lookup(cep);
    await this.cache.set(cep, JSON.stringify({ a: found ?? null }));
    return found;
  }
}

/** The lookup's answer for the store API: 404 `cep_not_found` when unknown. */
export async function findCep(lookup: CepLookup, cep: string): Promise<CepAddress> {
  const found = await lookup.lookup(cep);
  if (!found)
    throw new AppError('not_found', 'cep_not_found', 'No address is known for this CEP', {
      details: { cep },
    });
  return found;
}
