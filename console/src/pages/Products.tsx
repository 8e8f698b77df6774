/** Products: search, filter, sort and keyset pages; create and edit; images; delete and restore. */
import { useMemo, useState } from 'react';
import { useForm } from 'react-hook-form';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { api, ApiError, unwrap, type Get, type Schemas } from '../api';
import { count, dateTime, money, moneyInput, parseMoney } from '../format';
import { useLiveStock } from '../live';
import { OptionsEditor, optionsOf, type OptionDraft } from './ProductOptions';
import { VariantGrid } from './VariantGrid';
import {
  ConfirmButton,
  DataTable,
  ErrorBox,
  Pager,
  QueryState,
  SearchForm,
  useKeysetPager,
  ItemList,
} from '../ui';

type Category = Schemas['CategoryNode'];
type Product = Get<'/admin/products'>['items'][number];

/** The category tree as a flat list of options, indented by depth. */
export function useCategories() {
  return useQuery({
    queryKey: ['categories'],
    queryFn: () => unwrap(api.GET('/store/categories')),
    select: (d) => {
      const out: { id: string; label: string }[] = [];
      const walk = (nodes: Category[], depth: number) => {
        for (const n of nodes) {
          out.push({ id: n.id, label: `${'  '.repeat(depth)}${n.name}` });
          walk(n.children, depth + 1);
        }
      };
      walk(d.items, 0);
      return out;
    },
    staleTime: 60_000,
  });
}

const col = createColumnHelper<Product>();

export function Products() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [applied, setApplied] = useState('');
  const [categoryId, setCategoryId] = useState('');
  const [sort, setSort] = useState<'newest' | 'name' | 'price'>('newest');
  const pager = useKeysetPager();
  const categories = useCategories();
  const list = useQuery({
    queryKey: ['products', applied, categoryId, sort, pager.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/admin/products', {
          params: {
            query: {
              ...(applied ? { q: applied } : {}),
              ...(categoryId ? { categoryId } : {}),
              sort,
              limit: 25,
              ...(pager.cursor ? { cursor: pager.cursor } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const ids = useMemo(() => list.data?.items.map((p) => p.id) ?? [], [list.data]);
  const { levels, connected } = useLiveStock(ids);
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/admin/products/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['products'] }),
  });
  const deleted = useQuery({
    queryKey: ['products-deleted'],
    queryFn: () => unwrap(api.GET('/admin/products/deleted', { params: { query: { limit: 10 } } })),
  });
  const restore = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.POST('/admin/products/{id}/restore', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries(),
  });

  const columns = [
    col.accessor('name', {
      header: () => t('common.name'),
      cell: (c) => <Link to={`/products/${c.row.original.id}`}>{c.getValue()}</Link>,
    }),
    col.accessor((p) => p.category?.name ?? '—', { id: 'category', header: () => t('products.category') }),
    col.accessor('basePrice', { header: () => t('products.price'), cell: (c) => money(c.getValue()) }),
    col.accessor('availableQuantity', {
      header: () => t('products.stock'),
      cell: (c) => (
        <span data-testid={`stock-${c.row.original.id}`}>
          {count(levels.get(c.row.original.id)?.availableQuantity ?? c.getValue())}
        </span>
      ),
    }),
    col.accessor('createdAt', { header: () => t('common.created'), cell: (c) => dateTime(c.getValue()) }),
    col.display({
      id: 'actions',
      header: () => t('common.actions'),
      cell: (c) => (
        <ConfirmButton
          danger
          label={t('common.delete')}
          question={t('products.confirmDelete', { name: c.row.original.name })}
          onConfirm={() => remove.mutate(c.row.original.id)}
        />
      ),
    }),
  ];

  return (
    <>
      <div className="title-row">
        <h1>{t('products.title')}</h1>
        <Link className="button primary" to="/products/new">
          {t('products.new')}
        </Link>
      </div>
      <SearchForm
        label={t('products.searchPlaceholder')}
        onSearch={(q) => {
          setApplied(q);
          pager.reset();
        }}
      />
      <div className="filters">
        <label>
          {t('products.category')}
          <select
            value={categoryId}
            onChange={(e) => {
              setCategoryId(e.target.value);
              pager.reset();
            }}
          >
            <option value="">{t('common.all')}</option>
            {categories.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
        </label>
        <label>
          {t('products.sort')}
          <select
            value={sort}
            onChange={(e) => {
              setSort(e.target.value as typeof sort);
              pager.reset();
            }}
          >
            <option value="newest">{t('products.sortNewest')}</option>
            <option value="name">{t('products.sortName')}</option>
            <option value="price">{t('products.sortPrice')}</option>
          </select>
        </label>
        <span className={connected ? 'live on' : 'live'}>{t('common.live')}</span>
      </div>
      {remove.error && <ErrorBox error={remove.error} />}
      <QueryState query={list}>
        {(d) => (
          <>
            <DataTable data={d.items} columns={columns} label={t('products.title')} />
            <Pager pager={pager} nextCursor={d.nextCursor} />
          </>
        )}
      </QueryState>
      <h2>{t('products.deleted')}</h2>
      {restore.error && <ErrorBox error={restore.error} />}
      <QueryState query={deleted}>
        {(d) => (
          <ItemList items={d.items}>
            {(p) => (
              <li key={p.id}>
                {p.name} · {t('products.deletedAt')} {dateTime(p.deletedAt)}{' '}
                <button type="button" onClick={() => restore.mutate(p.id)}>
                  {t('common.restore')}
                </button>
              </li>
            )}
          </ItemList>
        )}
      </QueryState>
    </>
  );
}

interface FormValues {
  name: string;
  description: string;
  price: string;
  categoryId: string;
  tags: string;
  availableQuantity: string;
}

/** Field errors of the API (`body.name`) onto the form's fields. */
function fieldOf(apiField: string): keyof FormValues | null {
  const f = apiField.replace(/^body\./, '').split('.')[0];
  if (f === 'basePrice') return 'price';
  return f === 'name' ||
    f === 'description' ||
    f === 'categoryId' ||
    f === 'tags' ||
    f === 'availableQuantity'
    ? f
    : null;
}

export function ProductEdit() {
  const { id } = useParams();
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const categories = useCategories();
  const product = useQuery({
    queryKey: ['product', id],
    queryFn: () => unwrap(api.GET('/store/products/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
  });
  const [saved, setSaved] = useState(false);
  // A new product's options: each combination of their values becomes a variant.
  const [options, setOptions] = useState<OptionDraft[]>([]);
  const withOptions = optionsOf(options);
  // With several variants each has its price (the grid below); the product's follows the lowest.
  const pricedByVariants = (product.data?.variants.length ?? 0) > 1;
  const form = useForm<FormValues>({
    values: product.data
      ? {
          name: product.data.name,
          description: product.data.description ?? '',
          price: moneyInput(product.data.basePrice),
          categoryId: product.data.categoryId ?? '',
          tags: product.data.tags.join(', '),
          availableQuantity: '',
        }
      : { name: '', description: '', price: '', categoryId: '', tags: '', availableQuantity: '0' },
  });
  const save = useMutation({
    mutationFn: async (v: FormValues) => {
      const body = {
        name: v.name.trim(),
        description: v.description.trim() || null,
        basePrice: parseMoney(v.price)!,
        categoryId: v.categoryId || null,
        tags: v.tags
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      };
      if (id) {
        const { basePrice, ...rest } = body;
        const patch = pricedByVariants ? rest : { ...rest, basePrice };
        return unwrap(api.PATCH('/admin/products/{id}', { params: { path: { id } }, body: patch }));
      }
      return unwrap(
        api.POST('/admin/products', {
          body: withOptions.length
            ? { ...body, options: withOptions }
            : { ...body, availableQuantity: Number(v.availableQuantity || 0) },
        }),
      );
    },
    onSuccess: async (p) => {
      setSaved(true);
      await queryClient.invalidateQueries({ queryKey: ['products'] });
      queryClient.setQueryData(['product', p.id], p);
      if (!id) await navigate(`/products/${p.id}`);
    },
    onError: (e) => {
      if (e instanceof ApiError)
        for (const d of e.details) {
          const f = fieldOf(d.field);
          if (f) form.setError(f, { message: d.message });
        }
    },
  });
  const errors = form.formState.errors;
  if (id && (product.isPending || product.error))
    return <QueryState query={product}>{() => null}</QueryState>;
  return (
    <>
      <p>
        <Link to="/products">← {t('products.title')}</Link>
      </p>
      <h1>{id ? product.data?.name : t('products.new')}</h1>
      <form
        className="stack"
        noValidate
        onSubmit={(e) =>
          void form.handleSubmit((v) => {
            setSaved(false);
            save.mutate(v);
          })(e)
        }
      >
        <label>
          {t('common.name')}
          <input
            {...form.register('name', { required: true, maxLength: 255 })}
            aria-invalid={Boolean(errors.name)}
          />
          {errors.name && <span className="field-error">{errors.name.message || t('common.error')}</span>}
        </label>
        {!pricedByVariants && (
          <label>
            {t('products.price')} (R$)
            <input
              inputMode="decimal"
              {...form.register('price', {
                validate: (v) => parseMoney(v) !== null || t('products.invalidPrice'),
              })}
              aria-invalid={Boolean(errors.price)}
            />
            {errors.price && <span className="field-error">{errors.price.message}</span>}
          </label>
        )}
        <label>
          {t('products.category')}
          <select {...form.register('categoryId')}>
            <option value="">{t('products.noCategory')}</option>
            {categories.data?.map((c) => (
              <option key={c.id} value={c.id}>
                {c.label}
              </option>
            ))}
          </select>
          {errors.categoryId && <span className="field-error">{errors.categoryId.message}</span>}
        </label>
        <label>
          {t('products.tags')}
          <input {...form.register('tags')} />
          {errors.tags && <span className="field-error">{errors.tags.message}</span>}
        </label>
        <label>
          {t('products.description')}
          <textarea rows={4} {...form.register('description')} />
          {errors.description && <span className="field-error">{errors.description.message}</span>}
        </label>
        {!id && <OptionsEditor value={options} onChange={setOptions} />}
        {!id && withOptions.length === 0 && (
          <label>
            {t('products.initialStock')}
            <input type="number" min={0} {...form.register('availableQuantity')} />
            {errors.availableQuantity && (
              <span className="field-error">{errors.availableQuantity.message}</span>
            )}
          </label>
        )}
        {save.error &&
          !(save.error instanceof ApiError && save.error.details.some((d) => fieldOf(d.field))) && (
            <ErrorBox error={save.error} />
          )}
        {saved && <p role="status">{t('products.saved')}</p>}
        <button type="submit" className="primary" disabled={save.isPending}>
          {id ? t('common.save') : t('common.create')}
        </button>
      </form>
      {id && product.data && <VariantGrid product={product.data} />}
      {id && product.data && <Images product={product.data} />}
    </>
  );
}

function Images({ product }: { product: Get<'/store/products/{id}'> }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [latest, setLatest] = useState<{ thumbnail: string; medium: string; large: string } | null>(null);
  const upload = useMutation({
    mutationFn: async (file: File) => {
      const started = await unwrap(
        api.POST('/admin/products/{id}/images/uploads', {
          params: { path: { id: product.id } },
          body: { contentType: file.type, size: file.size },
        }),
      );
      // Straight to the object store with the presigned form; its answer is not readable across
      // origins (an S3 bucket without CORS rules), so the server checks the object itself next.
      const form = new FormData();
      for (const [k, v] of Object.entries(started.upload.fields)) form.append(k, v);
      form.append('file', file);
      await fetch(started.upload.url, { method: 'POST', body: form, mode: 'no-cors' });
      return unwrap(
        api.POST('/admin/products/{id}/images/uploaded', {
          params: { path: { id: product.id } },
          body: { key: started.key },
        }),
      );
    },
    onSuccess: async (image) => {
      setLatest(image.urls);
      await queryClient.invalidateQueries({ queryKey: ['product', product.id] });
    },
  });
  return (
    <section aria-labelledby="images">
      <h2 id="images">{t('products.images')}</h2>
      <div className="thumbs">
        {product.images.map((im) => (
          <img key={im.id} src={im.urls.thumbnail} alt={product.name} width={150} />
        ))}
      </div>
      <label className="button">
        {upload.isPending ? t('products.uploading') : t('products.upload')}
        <input
          type="file"
          accept="image/png,image/jpeg,image/webp"
          className="visually-hidden"
          onChange={(e) => {
            const file = e.target.files?.[0];
            if (file) upload.mutate(file);
            e.target.value = '';
          }}
        />
      </label>
      {upload.error && <ErrorBox error={upload.error} />}
      {latest && (
        <figure className="renditions">
          <figcaption>{t('products.renditions')}</figcaption>
          {(['thumbnail', 'medium', 'large'] as const).map((size) => (
            <a key={size} href={latest[size]} target="_blank" rel="noreferrer">
              <img src={latest[size]} alt={`${product.name} (${size})`} className={`rendition-${size}`} />
              <span>{size}</span>
            </a>
          ))}
        </figure>
      )}
    </section>
  );
}
