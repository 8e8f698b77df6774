/** A promotion's single-use codes (generate, list, download as CSV) and its redemptions. */
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api';
import { useMay } from '../access';
import { count, dateTime, money } from '../format';
import { ErrorBox, PagedTable, useKeysetQuery } from '../ui';
import type { Promotion } from './promotion-draft';

/** Saves a file the API streamed (the key travels as a header, so a plain link cannot fetch it). */
function saveFile(blob: Blob, name: string) {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function PromotionCodes({ promotion }: { promotion: Promotion }) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const mayOrders = useMay('orders');
  const [howMany, setHowMany] = useState('100');
  const [prefix, setPrefix] = useState('');
  const path = { params: { path: { id: promotion.id } } };
  const codes = useKeysetQuery(['promotion-codes', promotion.id], (cursor) =>
    unwrap(
      api.GET('/admin/promotions/{id}/codes', {
        params: { path: { id: promotion.id }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  const generate = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/admin/promotions/{id}/codes', {
          ...path,
          body: { count: Number(howMany), ...(prefix.trim() ? { prefix: prefix.trim() } : {}) },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['promotion-codes', promotion.id] }),
  });
  const download = useMutation({
    mutationFn: async () => {
      const blob = await unwrap(api.GET('/admin/promotions/{id}/codes/export', { ...path, parseAs: 'blob' }));
      saveFile(blob, `promotion-codes-${promotion.id.slice(0, 8)}.csv`);
    },
  });
  return (
    <section aria-labelledby="codes">
      <h2 id="codes">{t('promotions.codes')}</h2>
      <form
        className="filters"
        aria-label={t('promotions.generate')}
        onSubmit={(e) => {
          e.preventDefault();
          generate.mutate();
        }}
      >
        <label>
          {t('promotions.count')}
          <input
            type="number"
            min={1}
            max={100_000}
            value={howMany}
            onChange={(e) => setHowMany(e.target.value)}
          />
        </label>
        <label>
          {t('promotions.prefix')}
          <input value={prefix} maxLength={16} onChange={(e) => setPrefix(e.target.value)} size={10} />
        </label>
        <button type="submit" disabled={generate.isPending || !(Number(howMany) >= 1)}>
          {t('promotions.generate')}
        </button>
        <button type="button" disabled={download.isPending} onClick={() => download.mutate()}>
          {t('promotions.download')}
        </button>
      </form>
      {generate.data && <p role="status">{t('promotions.generated', { count: generate.data.generated })}</p>}
      {generate.error && <ErrorBox error={generate.error} />}
      {download.error && <ErrorBox error={download.error} />}
      <PagedTable
        paged={codes}
        label={t('promotions.codes')}
        head={[t('promotions.code'), t('promotions.redeemed'), t('promotions.order'), t('common.created')]}
      >
        {(c) => (
          <tr key={c.code}>
            <td>
              <code>{c.code}</code>
            </td>
            <td>{c.redeemed ? t('common.yes') : t('common.no')}</td>
            <td>{c.orderId ? <OrderRef id={c.orderId} link={mayOrders} /> : '—'}</td>
            <td>{dateTime(c.createdAt)}</td>
          </tr>
        )}
      </PagedTable>
    </section>
  );
}

function OrderRef({ id, link }: { id: string; link: boolean }) {
  return link ? <Link to={`/orders/${id}`}>{id.slice(0, 8)}</Link> : <code>{id.slice(0, 8)}</code>;
}

export function PromotionRedemptions({ promotion }: { promotion: Promotion }) {
  const { t } = useTranslation();
  const mayOrders = useMay('orders');
  const mayCustomers = useMay('customers');
  const redemptions = useKeysetQuery(['promotion-redemptions', promotion.id], (cursor) =>
    unwrap(
      api.GET('/admin/promotions/{id}/redemptions', {
        params: { path: { id: promotion.id }, query: { limit: 50, ...(cursor ? { cursor } : {}) } },
      }),
    ),
  );
  return (
    <section aria-labelledby="redemptions">
      <h2 id="redemptions">
        {t('promotions.redemptions')} ({count(promotion.used)})
      </h2>
      <PagedTable
        paged={redemptions}
        label={t('promotions.redemptions')}
        head={[
          t('promotions.when'),
          t('promotions.order'),
          t('promotions.customer'),
          t('promotions.code'),
          t('promotions.amountGiven'),
          t('promotions.released'),
        ]}
      >
        {(r) => (
          <tr key={r.orderId}>
            <td>{dateTime(r.createdAt)}</td>
            <td>
              <OrderRef id={r.orderId} link={mayOrders} />
            </td>
            <td>
              {r.customerId === null ? (
                t('promotions.guest')
              ) : mayCustomers ? (
                <Link to={`/customers/${r.customerId}`}>{r.customerId.slice(0, 8)}</Link>
              ) : (
                <code>{r.customerId.slice(0, 8)}</code>
              )}
            </td>
            <td>{r.code ?? '—'}</td>
            <td>{money(r.amount)}</td>
            <td>{r.releasedAt ? dateTime(r.releasedAt) : '—'}</td>
          </tr>
        )}
      </PagedTable>
    </section>
  );
}
