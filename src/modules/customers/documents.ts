/**
 * Brazilian taxpayer documents: CPF (11 digits) and CNPJ (14 characters, the 2026 alphanumeric
 * form included: 12 letters or digits and 2 check digits). Validation is
 * @brazilian-utils/brazilian-utils (`isValidCpf`, and `isValidCnpj` with `version: 2`, which
 * accepts both the numeric and the alphanumeric CNPJ); this file only normalizes and masks.
 */
import { isValidCnpj, isValidCpf } from '@brazilian-utils/brazilian-utils';

export type DocumentType = 'cpf' | 'cnpj';

export interface TaxDocument {
  type: DocumentType;
  /** Normalized: digits for a CPF, upper-case letters and digits for a CNPJ. */
  number: string;
}

/** The characters of a document as typed (dots, dashes, slashes and spaces dropped), upper-cased. */
export const normalizeDocument = (raw: string): string => raw.replace(/[.\-/\s]/g, '').toUpperCase();

/**
 * The document `raw` is, normalized, when its check digits are right; undefined otherwise. With
 * `type`, only that type is accepted; without, it is told by its length (11: CPF, 14: CNPJ).
 */
export function parseDocument(raw: string, type?: DocumentType): TaxDocument | undefined {
  const number = normalizeDocument(raw);
  const kind = type ?? (number.length === 11 ? 'cpf' : number.length === 14 ? 'cnpj' : undefined);
  if (kind === 'cpf')
    return /^\d{11}$/.test(number) && isValidCpf(number) ? { type: kind, number } : undefined;
  if (kind === 'cnpj')
    return /^[0-9A-Z]{12}\d{2}$/.test(number) && isValidCnpj(number, { version: 2 })
      ? { type: kind, number }
      : undefined;
  return undefined;
}

/**
 * The document as shown in lists, logs and to anyone but its owner and the admin: the first three
 * and the last two characters kept, the rest hidden (`123.***.***-09`, `12.***.***\/****-35`).
 */
export function maskDocument(d: TaxDocument): string {
  const n = d.number;
  if (d.type === 'cpf') return `${n.slice(0, 3)}.***.***-${n.slice(9, 11)}`;
  return `${n.slice(0, 2)}.***.***/****-${n.slice(12, 14)}`;
}

/** The document formatted in full (`123.456.789-09`, `12.ABC.345/01DE-35`), for its owner and the admin. */
export function formatDocument(d: TaxDocument): string {
  const n = d.number;
  if (d.type === 'cpf') return `${n.slice(0, 3)}.${n.slice(3, 6)}.${n.slice(6, 9)}-${n.slice(9)}`;
  return `${n.slice(0, 2)}.${n.slice(2, 5)}.${n.slice(5, 8)}/${n.slice(8, 12)}-${n.slice(12)}`;
}
