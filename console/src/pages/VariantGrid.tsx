/**
 * A product's variants as a grid: one row per variant (SKU, price, compare-at price, stock, GTIN,
 * weight), edited inline, a column changed for the selected rows at once, then saved variant by
 * variant (PATCH /admin/variants/:id, and PUT /admin/inventory/variants/:id for the stock), each
 * row showing what the API refused. Stock needs the `inventory` scope; without it, it is shown only.
 */
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, ApiError, unwrap } from '../api';
import { useMay } from '../access';
import { count, money } from '../format';
import { ConfirmButton, ErrorBox, Table } from '../ui';
import { AddVariant, OptionsSummary } from './ProductOptions';
import { OptionsEdit } from './OptionsEdit';
import {
  ADDABLE,
  applyBulk,
  BULK_FIELDS,
  changeOf,
  draftOf,
  FIELDS,
  invalidField,
  variantLabel,
  type BulkField,
  type Draft,
  type Field,
  type ProductDetail,
  type Variant,
} from './variant-rows';

/** What the API said about one row: the field it names (if any) and its message. */
function rowError(t: (k: string) => string, e: unknown): string {
  if (e instanceof ApiError) {
    const fields = e.details.map((d) => d.field.replace(/^body\./, '')).join(', ');
    return fields ? `${fields}: ${e.message}` : `${e.message} (${e.code})`;
  }
  return t('common.error');
}

/**
 * Saves one edited row: its changed fields (PATCH), then its stock (PUT) when the key may set it.
 * Answers what went wrong on the row, or null.
 */
async function saveRow(v: Variant, d: Draft, mayStock: boolean, t: (k: string) => string) {
  const bad = invalidField(d);
  if (bad) return `${bad}: ${t('variants.invalid')}`;
  const { patch, stock } = changeOf(v, d);
  try {
    if (Object.keys(patch).length > 0)
      await unwrap(api.PATCH('/admin/variants/{id}', { params: { path: { id: v.id } }, body: patch }));
    if (stock !== null && mayStock)
      await unwrap(
        api.PUT('/admin/inventory/variants/{variantId}', {
          params: { path: { variantId: v.id } },
          body: { availableQuantity: stock, reason: t('variants.stockReason') },
        }),
      );
    return null;
  } catch (e) {
    return rowError(t, e);
  }
}

export function VariantGrid({ product }: { product: ProductDetail }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const mayStock = useMay('inventory');
  const [drafts, setDrafts] = useState<Record<string, Draft>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [savedCount, setSavedCount] = useState<number | null>(null);
  const [editingOptions, setEditingOptions] = useState(false);
  const variants = product.variants;
  const label = (v: Variant) => variantLabel(v, product.options) ?? t('variants.default');
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['product', product.id] });

  const save = useMutation({
    mutationFn: async () => {
      const outcome: Record<string, string> = {};
      const done: string[] = [];
      await Promise.all(
        variants
          .filter((v) => drafts[v.id])
          .map(async (v) => {
            const error = await saveRow(v, drafts[v.id]!, mayStock, t);
            if (error === null) done.push(v.id);
            else outcome[v.id] = error;
          }),
      );
      await refresh();
      return { outcome, done };
    },
    onSuccess: ({ outcome, done }) => {
      setErrors(outcome);
      setSavedCount(done.length);
      // Saved rows show the server's values again; refused ones keep what was typed.
      setDrafts((d) => Object.fromEntries(Object.entries(d).filter(([id]) => !done.includes(id))));
    },
  });
  const remove = useMutation({
    mutationFn: (v: Variant) =>
      unwrap(api.DELETE('/admin/variants/{id}', { params: { path: { id: v.id } } })).catch((e: unknown) => {
        setErrors((x) => ({ ...x, [v.id]: rowError(t, e) }));
      }),
    onSuccess: refresh,
  });

  const allSelected = variants.length > 0 && variants.every((v) => selected.has(v.id));
  const changed = Object.keys(drafts).length;
  return (
    <section aria-labelledby="variants" className="grid">
      <h2 id="variants">{t('variants.title')}</h2>
      {editingOptions ? (
        <OptionsEdit
          product={product}
          onDone={(saved) => {
            setEditingOptions(false);
            if (saved) return refresh();
          }}
        />
      ) : (
        <>
          <OptionsSummary product={product} />
          <button type="button" onClick={() => setEditingOptions(true)}>
            {t('variants.editOptions')}
          </button>
        </>
      )}
      <BulkEdit
        disabled={selected.size === 0}
        mayStock={mayStock}
        apply={(field, op, typed) => {
          const next = applyBulk(
            variants.filter((x) => selected.has(x.id)),
            drafts,
            { field, op, typed },
          );
          if (next) setDrafts(next);
          return next !== null;
        }}
      />
      <Table
        label={t('variants.title')}
        head={[
          <input
            key="all"
            type="checkbox"
            aria-label={t('variants.selectAll')}
            checked={allSelected}
            onChange={() => setSelected(allSelected ? new Set() : new Set(variants.map((v) => v.id)))}
          />,
          t('variants.variant'),
          ...FIELDS.map((f) => t(`variants.${f}`)),
          t('common.actions'),
        ]}
      >
        {variants.map((v) => (
          <VariantRow
            key={v.id}
            variant={v}
            label={label(v)}
            draft={drafts[v.id]}
            error={errors[v.id]}
            selected={selected.has(v.id)}
            mayStock={mayStock}
            onToggle={() =>
              setSelected((s) => {
                const n = new Set(s);
                if (n.has(v.id)) n.delete(v.id);
                else n.add(v.id);
                return n;
              })
            }
            onEdit={(field, value) =>
              setDrafts((d) => ({ ...d, [v.id]: { ...(d[v.id] ?? draftOf(v)), [field]: value } }))
            }
            onDelete={variants.length > 1 ? () => remove.mutate(v) : undefined}
          />
        ))}
      </Table>
      <SaveBar
        changed={changed}
        pending={save.isPending}
        savedCount={savedCount}
        onSave={() => save.mutate()}
        onDiscard={() => setDrafts({})}
      />
      {save.error && <ErrorBox error={save.error} />}
      <p className="hint">
        {t('variants.range', { min: money(product.priceRange.min), max: money(product.priceRange.max) })}
      </p>
      {product.options.length > 0 && (
        <AddVariant key={JSON.stringify(product.options)} product={product} onAdded={refresh} />
      )}
    </section>
  );
}

/** Change one column of the selected rows: set a value, or add to prices and stock. */
function BulkEdit({
  disabled,
  mayStock,
  apply,
}: {
  disabled: boolean;
  mayStock: boolean;
  apply: (field: BulkField, op: 'set' | 'add', typed: string) => boolean;
}) {
  const { t } = useTranslation();
  const [field, setField] = useState<BulkField>('price');
  const [op, setOp] = useState<'set' | 'add'>('set');
  const [typed, setTyped] = useState('');
  const [invalid, setInvalid] = useState(false);
  return (
    <form
      className="filters"
      aria-label={t('variants.bulk')}
      onSubmit={(e) => {
        e.preventDefault();
        setInvalid(!apply(field, op, typed));
      }}
    >
      <strong>{t('variants.bulk')}</strong>
      <label>
        {t('variants.column')}
        <select
          value={field}
          onChange={(e) => {
            const f = e.target.value as BulkField;
            setField(f);
            if (!ADDABLE.includes(f)) setOp('set');
          }}
        >
          {BULK_FIELDS.filter((f) => f !== 'stock' || mayStock).map((f) => (
            <option key={f} value={f}>
              {t(`variants.${f}`)}
            </option>
          ))}
        </select>
      </label>
      <label>
        {t('variants.operation')}
        <select value={op} onChange={(e) => setOp(e.target.value as 'set' | 'add')}>
          <option value="set">{t('variants.set')}</option>
          {ADDABLE.includes(field) && <option value="add">{t('variants.add')}</option>}
        </select>
      </label>
      <label>
        {t('variants.value')}
        <input value={typed} onChange={(e) => setTyped(e.target.value)} size={10} aria-invalid={invalid} />
      </label>
      <button type="submit" disabled={disabled}>
        {t('variants.applySelected')}
      </button>
      {invalid && (
        <span role="alert" className="field-error">
          {t('variants.invalid')}
        </span>
      )}
    </form>
  );
}

/** One variant's row: its selection box, name, fields edited in place, delete, and its error. */
function VariantRow({
  variant: v,
  label,
  draft,
  error,
  selected,
  mayStock,
  onToggle,
  onEdit,
  onDelete,
}: {
  variant: Variant;
  label: string;
  draft: Draft | undefined;
  error: string | undefined;
  selected: boolean;
  mayStock: boolean;
  onToggle: () => void;
  onEdit: (field: Field, value: string) => void;
  /** Absent for a product's last variant (it keeps at least one). */
  onDelete: (() => void) | undefined;
}) {
  const { t } = useTranslation();
  const shown = draft ?? draftOf(v);
  const input = (field: Field, props: { inputMode?: 'decimal' | 'numeric'; size?: number } = {}) => (
    <input
      aria-label={`${t(`variants.${field}`)} ${label}`}
      value={shown[field]}
      onChange={(e) => onEdit(field, e.target.value)}
      aria-invalid={error?.startsWith(`${field}:`) ?? false}
      {...props}
    />
  );
  return (
    <tr className={draft ? 'changed' : undefined}>
      <td>
        <input
          type="checkbox"
          aria-label={`${t('variants.select')} ${label}`}
          checked={selected}
          onChange={onToggle}
        />
      </td>
      <th scope="row">{label}</th>
      <td className="sku">{input('sku', { size: 18 })}</td>
      <td>{input('price', { inputMode: 'decimal', size: 9 })}</td>
      <td>{input('compareAtPrice', { inputMode: 'decimal', size: 9 })}</td>
      <td>{mayStock ? input('stock', { inputMode: 'numeric', size: 6 }) : count(v.availableQuantity)}</td>
      <td>{input('gtin', { inputMode: 'numeric', size: 14 })}</td>
      <td>{input('weightGrams', { inputMode: 'numeric', size: 6 })}</td>
      <td>
        {onDelete && (
          <ConfirmButton
            danger
            label={t('common.delete')}
            question={t('variants.confirmDelete', { name: label })}
            onConfirm={onDelete}
          />
        )}
        {error && (
          <span role="alert" className="field-error">
            {error}
          </span>
        )}
      </td>
    </tr>
  );
}

/** Save the changed rows, or discard them; how many the last save wrote. */
function SaveBar(p: {
  changed: number;
  pending: boolean;
  savedCount: number | null;
  onSave: () => void;
  onDiscard: () => void;
}) {
  const { t } = useTranslation();
  return (
    <div className="row">
      <button type="button" className="primary" disabled={p.changed === 0 || p.pending} onClick={p.onSave}>
        {t('variants.save', { count: p.changed })}
      </button>
      {p.changed > 0 && (
        <button type="button" onClick={p.onDiscard}>
          {t('variants.discard')}
        </button>
      )}
      {p.savedCount !== null && !p.pending && (
        <p role="status">{t('variants.saved', { count: p.savedCount })}</p>
      )}
    </div>
  );
}
