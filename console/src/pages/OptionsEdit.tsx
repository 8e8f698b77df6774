/**
 * A product's options edited after it exists (PUT /admin/products/:id/options): values added,
 * renamed, reordered and removed, options added (with the value the existing variants get),
 * renamed and removed. Each value and option remembers what it was, so a rename is sent as one
 * (the variants follow) rather than as a removal and an addition. The API's refusals (a value a
 * live variant uses, variants that would collide) are shown as it words them.
 */
import { useState } from 'react';
import { useMutation } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api';
import { ErrorBox } from '../ui';
import { MAX_OPTIONS, moved as move } from './ProductOptions';
import type { ProductDetail } from './variant-rows';

interface ValueDraft {
  /** The value as the product has it now; null for one added here. */
  from: string | null;
  value: string;
}

export interface OptionEditDraft {
  /** The option's name as the product has it now; null for one added here. */
  from: string | null;
  name: string;
  values: ValueDraft[];
  /** A new option: the value the existing variants get. */
  defaultValue: string;
}

export const draftsOf = (options: ProductDetail['options']): OptionEditDraft[] =>
  options.map((o) => ({
    from: o.name,
    name: o.name,
    values: o.values.map((v) => ({ from: v, value: v })),
    defaultValue: '',
  }));

/** The body of PUT /admin/products/:id/options for these drafts (blank values dropped). */
export function editBody(drafts: OptionEditDraft[]) {
  return drafts.map((o) => {
    const name = o.name.trim();
    const values = o.values.map((v) => ({ ...v, value: v.value.trim() })).filter((v) => v.value);
    const renamedValues = values
      .filter((v) => v.from !== null && v.from !== v.value)
      .map((v) => ({ from: v.from!, to: v.value }));
    return {
      name,
      values: values.map((v) => v.value),
      ...(o.from !== null && o.from !== name ? { renamedFrom: o.from } : {}),
      ...(renamedValues.length ? { renamedValues } : {}),
      ...(o.from === null ? { defaultValue: o.defaultValue.trim() || (values[0]?.value ?? '') } : {}),
    };
  });
}

/** The options of an existing product, edited as a whole and saved at once. */
export function OptionsEdit({
  product,
  onDone,
}: {
  product: ProductDetail;
  onDone: (saved: boolean) => unknown;
}) {
  const { t } = useTranslation();
  const [drafts, setDrafts] = useState(() => draftsOf(product.options));
  const set = (i: number, o: Partial<OptionEditDraft>) =>
    setDrafts((d) => d.map((x, j) => (j === i ? { ...x, ...o } : x)));
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT('/admin/products/{id}/options', {
          params: { path: { id: product.id } },
          body: { options: editBody(drafts) },
        }),
      ),
    onSuccess: () => onDone(true),
  });
  return (
    <form
      className="stack"
      aria-label={t('variants.editOptions')}
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <p className="hint">{t('variants.editOptionsHelp')}</p>
      {drafts.map((o, i) => (
        <fieldset key={i} className="stack">
          <legend>{t('variants.optionName', { n: i + 1 })}</legend>
          <div className="row">
            <label>
              {t('variants.optionName', { n: i + 1 })}
              <input value={o.name} maxLength={50} onChange={(e) => set(i, { name: e.target.value })} />
            </label>
            <button
              type="button"
              disabled={i === 0}
              onClick={() => setDrafts((d) => move(d, i, -1))}
              aria-label={`${t('variants.up')} ${i + 1}`}
            >
              ↑
            </button>
            <button
              type="button"
              disabled={i === drafts.length - 1}
              onClick={() => setDrafts((d) => move(d, i, 1))}
              aria-label={`${t('variants.down')} ${i + 1}`}
            >
              ↓
            </button>
            <button type="button" onClick={() => setDrafts((d) => d.filter((_, j) => j !== i))}>
              {t('variants.removeOption')} {i + 1}
            </button>
          </div>
          <ValuesEdit n={i + 1} values={o.values} onChange={(values) => set(i, { values })} />
          {o.from === null && (
            <label>
              {t('variants.defaultValue', { n: i + 1 })}
              <select value={o.defaultValue} onChange={(e) => set(i, { defaultValue: e.target.value })}>
                {o.values
                  .filter((v) => v.value.trim())
                  .map((v, j) => (
                    <option key={j}>{v.value.trim()}</option>
                  ))}
              </select>
            </label>
          )}
        </fieldset>
      ))}
      <div className="row">
        {drafts.length < MAX_OPTIONS && (
          <button
            type="button"
            onClick={() =>
              setDrafts((d) => [
                ...d,
                { from: null, name: '', values: [{ from: null, value: '' }], defaultValue: '' },
              ])
            }
          >
            {t('variants.addOption')}
          </button>
        )}
        <button type="submit" disabled={save.isPending}>
          {t('variants.saveOptions')}
        </button>
        <button type="button" onClick={() => onDone(false)}>
          {t('variants.cancelOptions')}
        </button>
      </div>
      {save.error && <ErrorBox error={save.error} />}
    </form>
  );
}

/** One option's values: each renamed in place, moved, removed; one more added at the end. */
function ValuesEdit({
  n,
  values,
  onChange,
}: {
  n: number;
  values: ValueDraft[];
  onChange: (next: ValueDraft[]) => void;
}) {
  const { t } = useTranslation();
  return (
    <>
      <ol className="stack">
        {values.map((v, j) => (
          <li key={j} className="row">
            <input
              aria-label={t('variants.valueOf', { n, m: j + 1 })}
              value={v.value}
              maxLength={50}
              size={12}
              onChange={(e) =>
                onChange(values.map((x, k) => (k === j ? { ...x, value: e.target.value } : x)))
              }
            />
            <button
              type="button"
              disabled={j === 0}
              onClick={() => onChange(move(values, j, -1))}
              aria-label={`${t('variants.up')} ${v.value}`}
            >
              ↑
            </button>
            <button
              type="button"
              disabled={j === values.length - 1}
              onClick={() => onChange(move(values, j, 1))}
              aria-label={`${t('variants.down')} ${v.value}`}
            >
              ↓
            </button>
            <button
              type="button"
              onClick={() => onChange(values.filter((_, k) => k !== j))}
              aria-label={`${t('variants.removeValue')} ${v.value}`}
            >
              ×
            </button>
          </li>
        ))}
      </ol>
      {values.length < 100 && (
        <button type="button" onClick={() => onChange([...values, { from: null, value: '' }])}>
          {t('variants.addValue', { n })}
        </button>
      )}
    </>
  );
}
