/**
 * CEP lookup through ViaCEP (`GET {base}/ws/{cep}/json/`). An unknown CEP answers 200 with
 * `{"erro": true}`; anything else that is not an address (timeout, 5xx, not JSON) is the service
 * being unavailable. BrasilAPI's `/api/cep/v1/{cep}` could be a second adapter of the same port.
 */
import { AppError } from '../../platform/errors.ts';
import type { CepAddress, CepLookup } from './cep-lookup.ts';

interface ViaCepAnswer {
  cep?: string;
  logradouro?: string;
  bairro?: string;
  localidade?: string;
  uf?: string;
  erro?: boolean | string;
}

export class ViaCepLookup implements CepLookup {
  constructor(private readonly options: { baseUrl: string; timeoutMs: number }) {}

  async lookup(cep: string): Promise<CepAddress | undefined> {
    let body: ViaCepAnswer;
    try {
      const res = await fetch(`${this.options.baseUrl}/ws/${encodeURIComponent(cep)}/json/`, {
        headers: { accept: 'application/json' },
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      // ViaCEP answers 400 for a malformed CEP; ours are checked first, so treat it as unknown.
      if (res.status === 400 || res.status === 404) return undefined;
      if (!res.ok) throw new Error(`ViaCEP answered ${res.status}`);
      body = (await res.json()) as ViaCepAnswer;
    } catch (error) {
      throw AppError.unavailable('CEP lookup', error);
    }
    if (body.erro === true || body.erro === 'true') return undefined;
    if (typeof body.localidade !== 'string' || typeof body.uf !== 'string')
      throw AppError.unavailable('CEP lookup', new Error('ViaCEP answered without an address'));
    return {
      cep,
      street: body.logradouro ?? '',
      district: body.bairro ?? '',
      city: body.localidade,
      state: body.uf,
    };
  }
}
