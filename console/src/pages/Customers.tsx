/** Customers: search, detail with orders, export, and erasure after a confirmation that says what goes. */
import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams } from 'react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { useMay } from '../access';
import { api, auth, unwrap, type Get } from '../api';
import { dateTime } from '../format';
import { ConfirmButton, DataTable, ErrorBox, Pager, QueryState, SearchForm, useKeysetPager } from '../ui';
import { OrderTable } from './Orders';

type Customer = Get<'/admin/customers'>['items'][number];
const col = createColumnHelper<Customer>();

export function Customers() {
  const { t } = useTranslation();
  const [applied, setApplied] = useState('');
  const pager = useKeysetPager();
  const list = useQuery({
    queryKey: ['customers', applied, pager.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/admin/customers', {
          params: {
            query: {
              limit: 25,
              ...(applied ? { q: applied } : {}),
              ...(pager.cursor ? { cursor: pager.cursor } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const columns = [
    col.accessor('name', {
      header: () => t('common.name'),
      cell: (c) => <Link to={`/customers/${c.row.original.id}`}>{c.getValue()}</Link>,
    }),
    col.accessor('email', { header: () => t('customers.email') }),
    col.accessor('anonymizedAt', {
      header: () => t('customers.erased'),
      cell: (c) => (c.getValue() ? dateTime(c.getValue()) : '—'),
    }),
    col.accessor('createdAt', { header: () => t('common.created'), cell: (c) => dateTime(c.getValue()) }),
  ];
  return (
    <>
      <h1>{t('customers.title')}</h1>
      <SearchForm
        label={t('customers.searchPlaceholder')}
        onSearch={(q) => {
          setApplied(q);
          pager.reset();
        }}
      />
      <QueryState query={list}>
        {(d) => (
          <>
            <DataTable data={d.items} columns={columns} label={t('customers.title')} />
            <Pager pager={pager} nextCursor={d.nextCursor} />
          </>
        )}
      </QueryState>
    </>
  );
}

export function CustomerDetail() {
  const { id } = useParams() as { id: string };
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const customer = useQuery({
    queryKey: ['customer', id],
    queryFn: () => unwrap(api.GET('/admin/customers/{id}', { params: { path: { id } } })),
  });
  const privacy = useMay('privacy');
  const orders = useMay('orders');
  const anonymize = useMutation({
    mutationFn: () => unwrap(api.POST('/admin/customers/{id}/anonymize', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries(),
  });
  const [exportError, setExportError] = useState<unknown>(null);
  // The export is a file: fetched with the key in a header (never in a link), then saved.
  const download = async () => {
    setExportError(null);
    const res = await fetch(`/admin/customers/${encodeURIComponent(id)}/export`, {
      headers: { authorization: `Bearer ${auth.key() ?? ''}` },
    }).catch(() => null);
    if (!res?.ok) return setExportError(new Error(String(res?.status ?? 'network')));
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = `customer-${id}.json`;
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <>
      <p>
        <Link to="/customers">← {t('customers.back')}</Link>
      </p>
      <QueryState query={customer}>
        {(c) => (
          <>
            <h1>{c.name}</h1>
            <dl className="facts">
              <dt>{t('customers.email')}</dt>
              <dd data-testid="customer-email">{c.email}</dd>
              <dt>{t('customers.phone')}</dt>
              <dd>{c.phone ?? '—'}</dd>
              <dt>{t('common.created')}</dt>
              <dd>{dateTime(c.createdAt)}</dd>
              <dt>{t('customers.erased')}</dt>
              <dd data-testid="customer-erased">
                {c.anonymizedAt ? dateTime(c.anonymizedAt) : t('common.no')}
              </dd>
            </dl>
            {privacy && (
              <div className="row">
                <button type="button" onClick={() => void download()}>
                  {t('customers.export')}
                </button>
                {!c.anonymizedAt && (
                  <ConfirmButton
                    danger
                    label={t('customers.anonymize')}
                    question={t('customers.anonymizeTitle')}
                    confirmText={c.email}
                    onConfirm={() => anonymize.mutate()}
                  >
                    <p>{t('customers.anonymizeWhat')}</p>
                    <p>{t('customers.anonymizeType', { email: c.email })}</p>
                  </ConfirmButton>
                )}
              </div>
            )}
            {anonymize.isSuccess && <p role="status">{t('customers.anonymized')}</p>}
            {anonymize.error && <ErrorBox error={anonymize.error} />}
            {exportError !== null && <ErrorBox error={exportError} />}
          </>
        )}
      </QueryState>
      {orders && (
        <>
          <h2>{t('customers.orders')}</h2>
          <OrderTable customerId={id} />
        </>
      )}
    </>
  );
}
