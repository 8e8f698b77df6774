/**
 * A product's options (up to 3, each with its ordered values): typed when the product is
 * created (the API then creates one variant per combination), shown afterwards (edited in
 * ./OptionsEdit.tsx), and a variant added for a combination not sold yet (POST
 * /admin/products/:id/variants).
 */
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api';
import { useMay } from '../access';
import { moneyInput, parseMoney } from '../format';
import { ErrorBox } from '../ui';
import type { ProductDetail } from './variant-rows';

export interface OptionDraft {
  name: string;
  /** The values in order, as typed: "P, M, G, GG". */
  values: string;
}

export const MAX_OPTIONS = 3;

/** The list with its item at `i` moved `by` places (-1 up, 1 down). */
export function moved<T>(list: T[], i: number, by: number): T[] {
  const next = [...list];
  const [x] = next.splice(i, 1);
  next.splice(i + by, 0, x!);
  return next;
}

/** The drafts as the API takes them (empty names and values dropped, order kept). */
export function optionsOf(drafts: OptionDraft[]): { name: string; values: string[] }[] {
  return drafts
    .map((o) => ({
      name: o.name.trim(),
      values: o.values
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean),
    }))
    .filter((o) => o.name && o.values.length > 0);
}

/** The options of a product being created; each combination of their values becomes a variant. */
export function OptionsEditor({
  value,
  onChange,
}: {
  value: OptionDraft[];
  onChange: (next: OptionDraft[]) => void;
}) {
  const { t } = useTranslation();
  const set = (i: number, o: Partial<OptionDraft>) =>
    onChange(value.map((x, j) => (j === i ? { ...x, ...o } : x)));
  const move = (i: number, by: number) => onChange(moved(value, i, by));
  const combos = optionsOf(value).reduce((n, o) => n * o.values.length, 1);
  return (
    <fieldset className="stack">
      <legend>{t('variants.options')}</legend>
      <p className="hint">{t('variants.optionsHelp')}</p>
      {value.map((o, i) => (
        <div className="row" key={i}>
          <label>
            {t('variants.optionName', { n: i + 1 })}
            <input value={o.name} maxLength={50} onChange={(e) => set(i, { name: e.target.value })} />
          </label>
          <label>
            {t('variants.optionValues', { n: i + 1 })}
            <input value={o.values} onChange={(e) => set(i, { values: e.target.value })} size={30} />
          </label>
          <button type="button" disabled={i === 0} onClick={() => move(i, -1)} aria-label={t('variants.up')}>
            ↑
          </button>
          <button
            type="button"
            disabled={i === value.length - 1}
            onClick={() => move(i, 1)}
            aria-label={t('variants.down')}
          >
            ↓
          </button>
          <button type="button" onClick={() => onChange(value.filter((_, j) => j !== i))}>
            {t('variants.removeOption')}
          </button>
        </div>
      ))}
      {value.length < MAX_OPTIONS && (
        <button type="button" onClick={() => onChange([...value, { name: '', values: '' }])}>
          {t('variants.addOption')}
        </button>
      )}
      {optionsOf(value).length > 0 && <p role="status">{t('variants.combinations', { count: combos })}</p>}
    </fieldset>
  );
}

/** The options of an existing product as they are (edited through ./OptionsEdit.tsx). */
export function OptionsSummary({ product }: { product: ProductDetail }) {
  const { t } = useTranslation();
  if (product.options.length === 0) return <p className="hint">{t('variants.noOptions')}</p>;
  return (
    <dl className="facts">
      {product.options.map((o) => (
        <div key={o.name}>
          <dt>{o.name}</dt>
          <dd>{o.values.join(', ')}</dd>
        </div>
      ))}
    </dl>
  );
}

/** A variant for a combination of the product's option values, with its SKU, price and stock. */
export function AddVariant({ product, onAdded }: { product: ProductDetail; onAdded: () => unknown }) {
  const { t } = useTranslation();
  const mayStock = useMay('inventory');
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(product.options.map((o) => [o.name, o.values[0]!])),
  );
  const [sku, setSku] = useState('');
  const [price, setPrice] = useState(moneyInput(product.priceRange.min));
  const [stock, setStock] = useState('0');
  const add = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/admin/products/{id}/variants', {
          params: { path: { id: product.id } },
          body: {
            options: values,
            ...(sku.trim() ? { sku: sku.trim() } : {}),
            price: parseMoney(price) ?? product.priceRange.min,
            // Only a key that may set stock gives a new variant units (otherwise it starts at 0).
            ...(mayStock ? { availableQuantity: Number(stock) || 0 } : {}),
          },
        }),
      ),
    onSuccess: () => {
      setSku('');
      return onAdded();
    },
  });
  return (
    <form
      className="filters"
      aria-label={t('variants.addVariant')}
      onSubmit={(e) => {
        e.preventDefault();
        add.mutate();
      }}
    >
      <strong>{t('variants.addVariant')}</strong>
      {product.options.map((o) => (
        <label key={o.name}>
          {o.name}
          <select value={values[o.name]} onChange={(e) => setValues({ ...values, [o.name]: e.target.value })}>
            {o.values.map((v) => (
              <option key={v}>{v}</option>
            ))}
          </select>
        </label>
      ))}
      <label>
        {t('variants.sku')}
        <input value={sku} onChange={(e) => setSku(e.target.value)} size={16} />
      </label>
      <label>
        {t('variants.price')}
        <input value={price} inputMode="decimal" onChange={(e) => setPrice(e.target.value)} size={9} />
      </label>
      {mayStock && (
        <label>
          {t('variants.stock')}
          <input value={stock} inputMode="numeric" onChange={(e) => setStock(e.target.value)} size={6} />
        </label>
      )}
      <button type="submit" disabled={add.isPending || parseMoney(price) === null}>
        {t('variants.addVariant')}
      </button>
      {add.error && <ErrorBox error={add.error} />}
    </form>
  );
}
