/**
 * A promotion as its form holds it (text and switches) and as the API takes it: money typed in
 * R$ and sent as integer centavos (parseMoney), windows typed in the store's time zone and sent
 * as instants, and the status the list shows.
 */
import type { Schemas } from '../api';
import { fromStoreLocal, moneyInput, parseMoney, toStoreLocal } from '../format';

export type Promotion = Schemas['Promotion'];
export type Kind = Promotion['kind'];
/** A shared code, single-use codes only (generated below the form), or applied by itself. */
export type Trigger = 'code' | 'codes' | 'automatic';
export type PromotionStatus = 'active' | 'scheduled' | 'expired' | 'exhausted';

export interface PromotionDraft {
  name: string;
  kind: Kind;
  value: string;
  perLine: boolean;
  trigger: Trigger;
  code: string;
  productIds: string;
  categoryIds: string[];
  variantIds: string;
  minSubtotal: string;
  firstOrderOnly: boolean;
  startsAt: string;
  endsAt: string;
  usageLimit: string;
  usageLimitPerCustomer: string;
  combinable: boolean;
}

export const EMPTY: PromotionDraft = {
  name: '',
  kind: 'percentage',
  value: '',
  perLine: false,
  trigger: 'code',
  code: '',
  productIds: '',
  categoryIds: [],
  variantIds: '',
  minSubtotal: '',
  firstOrderOnly: false,
  startsAt: '',
  endsAt: '',
  usageLimit: '',
  usageLimitPerCustomer: '',
  combinable: false,
};

export function draftOf(p: Promotion): PromotionDraft {
  return {
    name: p.name,
    kind: p.kind,
    value: p.kind === 'fixed' ? moneyInput(p.value) : p.kind === 'percentage' ? String(p.value) : '',
    perLine: p.perLine,
    trigger: p.automatic ? 'automatic' : p.code ? 'code' : 'codes',
    code: p.code ?? '',
    productIds: (p.appliesTo?.productIds ?? []).join('\n'),
    categoryIds: p.appliesTo?.categoryIds ?? [],
    variantIds: (p.appliesTo?.variantIds ?? []).join('\n'),
    minSubtotal: p.minSubtotal ? moneyInput(p.minSubtotal) : '',
    firstOrderOnly: p.firstOrderOnly,
    startsAt: toStoreLocal(p.startsAt),
    endsAt: toStoreLocal(p.endsAt),
    usageLimit: p.usageLimit === null ? '' : String(p.usageLimit),
    usageLimitPerCustomer: p.usageLimitPerCustomer === null ? '' : String(p.usageLimitPerCustomer),
    combinable: p.combinable,
  };
}

const ids = (text: string) => text.split(/[\s,;]+/).filter(Boolean);
const limit = (text: string) => (text.trim() ? Number(text.trim()) : null);

/** A field typed so that it cannot be sent (the API would refuse it too): its name, or null. */
export function invalidField(d: PromotionDraft): keyof PromotionDraft | null {
  if (d.kind === 'fixed' && parseMoney(d.value) === null) return 'value';
  if (d.kind === 'percentage' && !/^\d{1,3}$/.test(d.value.trim())) return 'value';
  if (d.minSubtotal.trim() && parseMoney(d.minSubtotal) === null) return 'minSubtotal';
  if (d.startsAt && !fromStoreLocal(d.startsAt)) return 'startsAt';
  if (d.endsAt && !fromStoreLocal(d.endsAt)) return 'endsAt';
  if (d.usageLimit.trim() && !/^\d{1,10}$/.test(d.usageLimit.trim())) return 'usageLimit';
  if (d.usageLimitPerCustomer.trim() && !/^\d{1,7}$/.test(d.usageLimitPerCustomer.trim()))
    return 'usageLimitPerCustomer';
  return null;
}

/**
 * The body of POST /admin/promotions, or of PATCH for `before`: every field, except the shared
 * code, which is sent only when it changes (the API normalises it to upper case).
 */
export function bodyOf(d: PromotionDraft, before?: Promotion) {
  const productIds = ids(d.productIds);
  const variantIds = ids(d.variantIds);
  const appliesTo =
    productIds.length || variantIds.length || d.categoryIds.length
      ? {
          ...(productIds.length ? { productIds } : {}),
          ...(d.categoryIds.length ? { categoryIds: d.categoryIds } : {}),
          ...(variantIds.length ? { variantIds } : {}),
        }
      : null;
  const code = d.trigger === 'code' ? d.code.trim() || null : null;
  const codeChanged = (code?.toUpperCase() ?? null) !== (before?.code ?? null);
  return {
    name: d.name.trim(),
    kind: d.kind,
    value: d.kind === 'fixed' ? parseMoney(d.value)! : d.kind === 'percentage' ? Number(d.value) : 0,
    perLine: d.kind === 'fixed' && d.perLine,
    automatic: d.trigger === 'automatic',
    ...(codeChanged || !before ? { code } : {}),
    appliesTo,
    minSubtotal: d.minSubtotal.trim() ? parseMoney(d.minSubtotal)! : 0,
    firstOrderOnly: d.firstOrderOnly,
    startsAt: d.startsAt ? fromStoreLocal(d.startsAt) : null,
    endsAt: d.endsAt ? fromStoreLocal(d.endsAt) : null,
    usageLimit: limit(d.usageLimit),
    usageLimitPerCustomer: limit(d.usageLimitPerCustomer),
    combinable: d.combinable,
  };
}

/** Where a promotion stands now: not started, over, used up, or on. */
export function statusOf(p: Promotion, now = Date.now()): PromotionStatus {
  if (p.endsAt && Date.parse(p.endsAt) <= now) return 'expired';
  if (p.usageLimit !== null && p.used >= p.usageLimit) return 'exhausted';
  if (p.startsAt && Date.parse(p.startsAt) > now) return 'scheduled';
  return 'active';
}
