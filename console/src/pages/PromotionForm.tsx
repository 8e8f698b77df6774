/** Every field of a promotion, as a form: kind and value, how it applies, conditions, window, limits. */
import { useState, type ReactNode } from 'react';
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError, unwrap } from '../api';
import { timeZone } from '../format';
import { ErrorBox } from '../ui';
import { useCategories } from './Products';
import { invalidField, type Kind, type PromotionDraft, type Trigger } from './promotion-draft';

/** The API's field errors (`body.value`, `appliesTo.productIds.0`) by the form's field. */
function errorsOf(e: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (e instanceof ApiError)
    for (const d of e.details) out[d.field.replace(/^body\./, '').split('.')[0]!] ??= d.message;
  return out;
}

export function PromotionForm({
  initial,
  submitLabel,
  busy,
  error,
  onSubmit,
}: {
  initial: PromotionDraft;
  submitLabel: string;
  busy: boolean;
  error: unknown;
  onSubmit: (d: PromotionDraft) => void;
}) {
  const { t } = useTranslation();
  const [d, setD] = useState(initial);
  const [invalid, setInvalid] = useState<string | null>(null);
  const set = (patch: Partial<PromotionDraft>) => setD((x) => ({ ...x, ...patch }));
  const apiErrors = errorsOf(error);
  const field = (name: keyof PromotionDraft, label: string, control: ReactNode) => {
    const message = invalid === name ? t('promotions.invalid') : apiErrors[name];
    return (
      <label>
        {label}
        {control}
        {message && <span className="field-error">{message}</span>}
      </label>
    );
  };
  const text = (name: keyof PromotionDraft, props: Record<string, unknown> = {}) => (
    <input
      value={d[name] as string}
      onChange={(e) => set({ [name]: e.target.value })}
      aria-invalid={invalid === name || Boolean(apiErrors[name])}
      {...props}
    />
  );
  const check = (name: 'perLine' | 'firstOrderOnly' | 'combinable') => (
    <label className="check">
      <input type="checkbox" checked={d[name]} onChange={(e) => set({ [name]: e.target.checked })} />
      {t(`promotions.${name}`)}
    </label>
  );
  return (
    <form
      className="stack"
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        const bad = invalidField(d);
        setInvalid(bad);
        if (!bad) onSubmit(d);
      }}
    >
      {field('name', t('common.name'), text('name', { required: true, maxLength: 200 }))}
      {field(
        'kind',
        t('promotions.kind'),
        <select value={d.kind} onChange={(e) => set({ kind: e.target.value as Kind })}>
          {(['percentage', 'fixed', 'free_shipping'] as const).map((k) => (
            <option key={k} value={k}>
              {t(`promotions.kinds.${k}`)}
            </option>
          ))}
        </select>,
      )}
      {d.kind === 'percentage' &&
        field('value', t('promotions.percent'), text('value', { inputMode: 'numeric' }))}
      {d.kind === 'fixed' && field('value', t('promotions.amount'), text('value', { inputMode: 'decimal' }))}
      {d.kind === 'fixed' && check('perLine')}
      {field(
        'trigger',
        t('promotions.trigger'),
        <select value={d.trigger} onChange={(e) => set({ trigger: e.target.value as Trigger })}>
          {(['code', 'codes', 'automatic'] as const).map((k) => (
            <option key={k} value={k}>
              {t(`promotions.triggers.${k}`)}
            </option>
          ))}
        </select>,
      )}
      {d.trigger === 'code' && field('code', t('promotions.code'), text('code', { maxLength: 64 }))}
      <AppliesTo d={d} set={set} field={field} />
      {field('minSubtotal', t('promotions.minSubtotal'), text('minSubtotal', { inputMode: 'decimal' }))}
      {check('firstOrderOnly')}
      <p className="hint">{t('promotions.windowHelp', { zone: timeZone() })}</p>
      {field('startsAt', t('promotions.startsAt'), text('startsAt', { type: 'datetime-local' }))}
      {field('endsAt', t('promotions.endsAt'), text('endsAt', { type: 'datetime-local' }))}
      {field('usageLimit', t('promotions.usageLimit'), text('usageLimit', { inputMode: 'numeric' }))}
      {field(
        'usageLimitPerCustomer',
        t('promotions.usageLimitPerCustomer'),
        text('usageLimitPerCustomer', { inputMode: 'numeric' }),
      )}
      {check('combinable')}
      {error !== null && error !== undefined && Object.keys(apiErrors).length === 0 && (
        <ErrorBox error={error} />
      )}
      <button type="submit" className="primary" disabled={busy || !d.name.trim()}>
        {submitLabel}
      </button>
    </form>
  );
}

type FieldFn = (name: keyof PromotionDraft, label: string, control: ReactNode) => ReactNode;

/** What a promotion applies to: categories (with their sub-categories), products, variants. */
function AppliesTo({
  d,
  set,
  field,
}: {
  d: PromotionDraft;
  set: (patch: Partial<PromotionDraft>) => void;
  field: FieldFn;
}) {
  const { t } = useTranslation();
  const categories = useCategories();
  return (
    <fieldset className="stack">
      <legend>{t('promotions.appliesTo')}</legend>
      <p className="hint">{t('promotions.appliesToHelp')}</p>
      {field(
        'categoryIds',
        t('promotions.categories'),
        <select
          multiple
          value={d.categoryIds}
          onChange={(e) => set({ categoryIds: [...e.target.selectedOptions].map((o) => o.value) })}
        >
          {categories.data?.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </select>,
      )}
      {field(
        'productIds',
        t('promotions.products'),
        <textarea rows={2} value={d.productIds} onChange={(e) => set({ productIds: e.target.value })} />,
      )}
      <ProductPicker
        onPick={(id) =>
          d.productIds.includes(id) || set({ productIds: `${d.productIds.trim()}\n${id}`.trim() })
        }
      />
      {field(
        'variantIds',
        t('promotions.variants'),
        <textarea rows={2} value={d.variantIds} onChange={(e) => set({ variantIds: e.target.value })} />,
      )}
    </fieldset>
  );
}

/** Finds products by name and adds the one picked to the promotion's products. */
function ProductPicker({ onPick }: { onPick: (id: string) => void }) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  const [applied, setApplied] = useState('');
  const found = useQuery({
    queryKey: ['products', 'picker', applied],
    queryFn: () =>
      unwrap(api.GET('/admin/products', { params: { query: { q: applied, sort: 'name', limit: 10 } } })),
    enabled: applied.length > 0,
  });
  return (
    <div>
      <div className="row">
        <label>
          {t('promotions.findProduct')}
          <input
            type="search"
            value={q}
            maxLength={100}
            onChange={(e) => setQ(e.target.value)}
            onKeyDown={(e) => {
              // Enter searches here instead of submitting the promotion.
              if (e.key === 'Enter') {
                e.preventDefault();
                setApplied(q.trim());
              }
            }}
          />
        </label>
        <button type="button" onClick={() => setApplied(q.trim())}>
          {t('common.search')}
        </button>
      </div>
      {found.data && (
        <ul className="plain" aria-label={t('promotions.findProduct')}>
          {found.data.items.map((p) => (
            <li key={p.id}>
              {p.name}{' '}
              <button type="button" onClick={() => onPick(p.id)}>
                {t('promotions.addProduct')}
              </button>
            </li>
          ))}
          {found.data.items.length === 0 && <li>{t('common.none')}</li>}
        </ul>
      )}
    </div>
  );
}
