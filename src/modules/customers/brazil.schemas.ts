/**
 * The Brazilian shapes every store route validates the same way: a CEP, a UF, a postal address,
 * a CPF/CNPJ and a buyer. Invalid input is a 400 naming the field (the Zod path).
 */
import { z } from 'zod';
import { maskDocument, parseDocument, formatDocument, type TaxDocument } from './documents.ts';

/** The 27 federative units. */
export const UFS = [
  'AC',
  'AL',
  'AP',
  'AM',
  'BA',
  'CE',
  'DF',
  'ES',
  'GO',
  'MA',
  'MT',
  'MS',
  'MG',
  'PA',
  'PB',
  'PR',
  'PE',
  'PI',
  'RJ',
  'RN',
  'RS',
  'RO',
  'RR',
  'SC',
  'SP',
  'SE',
  'TO',
] as const;
export type Uf = (typeof UFS)[number];

/** A CEP as typed (`01310-100` or `01310100`), answered as its 8 digits. */
export const CepSchema = z
  .string()
  .trim()
  .max(10)
  .transform((v) => v.replace('-', ''))
  .pipe(z.string().regex(/^\d{8}$/, 'a CEP has 8 digits (01310-100)'));

const text = (max: number) => z.string().trim().min(1).max(max);

/** A postal address as a client sends it (the address book, a cart's shipping address). */
export const AddressInputSchema = z
  .object({
    label: text(60).optional(),
    recipient: text(120),
    cep: CepSchema,
    street: text(200),
    number: text(20),
    complement: text(120).optional(),
    district: text(120),
    city: text(120),
    state: z
      .string()
      .trim()
      .transform((v) => v.toUpperCase())
      .pipe(z.enum(UFS)),
    phone: z
      .string()
      .trim()
      .regex(/^\+?[0-9 ()-]{8,20}$/, 'a phone number')
      .optional(),
  })
  .strict();
export type AddressInput = z.infer<typeof AddressInputSchema>;

/** A postal address as stored and answered (a snapshot on carts and orders). */
export const AddressSchema = z
  .object({
    label: z.string().nullable().optional(),
    recipient: z.string(),
    cep: z.string(),
    street: z.string(),
    number: z.string(),
    complement: z.string().nullable().optional(),
    district: z.string(),
    city: z.string(),
    state: z.string(),
    phone: z.string().nullable().optional(),
  })
  .meta({ id: 'PostalAddress' });

/** A CPF or CNPJ as typed; answered normalized when its check digits are right. */
export const DocumentInputSchema = z
  .object({
    type: z.enum(['cpf', 'cnpj']).optional(),
    number: z.string().trim().min(11).max(20),
  })
  .strict()
  .transform((d, ctx): TaxDocument => {
    const parsed = parseDocument(d.number, d.type);
    if (!parsed) {
      ctx.addIssue({
        code: 'custom',
        path: ['number'],
        message: `not a valid ${d.type ? d.type.toUpperCase() : 'CPF or CNPJ'} (check digits)`,
      });
      return z.NEVER;
    }
    return parsed;
  });

/** A document as answered: masked, or in full for its owner and the admin. */
export const DocumentSchema = z
  .object({ type: z.enum(['cpf', 'cnpj']), number: z.string() })
  .meta({ id: 'TaxDocument' });

export const showDocument = (d: TaxDocument, full: boolean) => ({
  type: d.type,
  number: full ? formatDocument(d) : maskDocument(d),
});

/** The buyer of a guest checkout. */
export const BuyerInputSchema = z
  .object({
    name: text(120),
    email: z.email().max(320),
    document: DocumentInputSchema,
  })
  .strict();
export type BuyerInput = z.infer<typeof BuyerInputSchema>;
