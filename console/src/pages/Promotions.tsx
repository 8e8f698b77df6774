/**
 * Promotions: the list with each one's status (active, scheduled, expired, exhausted), create and
 * edit every field, delete; per promotion its single-use codes (generate, list, CSV) and its
 * redemptions (./PromotionCodes.tsx). The whole page needs the `catalog` scope.
 */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useNavigate, useParams } from 'react-router';
import { api, unwrap } from '../api';
import { count, dateTime, money } from '../format';
import { ConfirmButton, ErrorBox, PagedTable, QueryState, useKeysetQuery } from '../ui';
import { PromotionForm } from './PromotionForm';
import { PromotionCodes, PromotionRedemptions } from './PromotionCodes';
import { bodyOf, draftOf, EMPTY, statusOf, type Promotion } from './promotion-draft';

/** "20 %", "R$ 10,00 per line", "free shipping". */
function useDescribe() {
  const { t } = useTranslation();
  return (p: Promotion) =>
    p.kind === 'percentage'
      ? `${p.value} %`
      : p.kind === 'fixed'
        ? `${money(p.value)}${p.perLine ? ` ${t('promotions.perLineShort')}` : ''}`
        : t('promotions.kinds.free_shipping');
}

export function Promotions() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const describe = useDescribe();
  const list = useKeysetQuery(['promotions'], (cursor) =>
    unwrap(api.GET('/admin/promotions', { params: { query: { limit: 25, ...(cursor ? { cursor } : {}) } } })),
  );
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/admin/promotions/{id}', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['promotions'] }),
  });
  return (
    <>
      <div className="title-row">
        <h1>{t('promotions.title')}</h1>
        <Link className="button primary" to="/promotions/new">
          {t('promotions.new')}
        </Link>
      </div>
      {remove.error && <ErrorBox error={remove.error} />}
      <PagedTable
        paged={list}
        label={t('promotions.title')}
        head={[
          t('common.name'),
          t('promotions.code'),
          t('promotions.discount'),
          t('common.status'),
          t('promotions.used'),
          t('promotions.window'),
          t('common.actions'),
        ]}
      >
        {(p) => {
          const status = statusOf(p);
          return (
            <tr key={p.id}>
              <td>
                <Link to={`/promotions/${p.id}`}>{p.name}</Link>
              </td>
              <td>
                {p.automatic
                  ? t('promotions.triggers.automatic')
                  : (p.code ?? t('promotions.triggers.codes'))}
              </td>
              <td>{describe(p)}</td>
              <td>
                <span className={`badge badge-${status}`} data-testid={`promotion-status-${p.id}`}>
                  {t(`promotions.status.${status}`)}
                </span>
              </td>
              <td>
                {count(p.used)}
                {p.usageLimit !== null && ` / ${count(p.usageLimit)}`}
              </td>
              <td>
                {dateTime(p.startsAt)} – {dateTime(p.endsAt)}
              </td>
              <td>
                <ConfirmButton
                  danger
                  label={t('common.delete')}
                  question={t('promotions.confirmDelete', { name: p.name })}
                  onConfirm={() => remove.mutate(p.id)}
                />
              </td>
            </tr>
          );
        }}
      </PagedTable>
    </>
  );
}

export function PromotionEdit() {
  const { id } = useParams();
  const { t } = useTranslation();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const promotion = useQuery({
    queryKey: ['promotion', id],
    queryFn: () => unwrap(api.GET('/admin/promotions/{id}', { params: { path: { id: id! } } })),
    enabled: Boolean(id),
  });
  const save = useMutation({
    mutationFn: (d: Parameters<typeof bodyOf>[0]) =>
      id
        ? unwrap(
            api.PATCH('/admin/promotions/{id}', {
              params: { path: { id } },
              body: bodyOf(d, promotion.data),
            }),
          )
        : unwrap(api.POST('/admin/promotions', { body: bodyOf(d) })),
    onSuccess: async (p) => {
      queryClient.setQueryData(['promotion', p.id], p);
      await queryClient.invalidateQueries({ queryKey: ['promotions'] });
      if (!id) await navigate(`/promotions/${p.id}`);
    },
  });
  if (id && (promotion.isPending || promotion.error))
    return <QueryState query={promotion}>{() => null}</QueryState>;
  const p = promotion.data;
  return (
    <>
      <p>
        <Link to="/promotions">← {t('promotions.title')}</Link>
      </p>
      <div className="title-row">
        <h1>{p ? p.name : t('promotions.new')}</h1>
        {p && <span className={`badge badge-${statusOf(p)}`}>{t(`promotions.status.${statusOf(p)}`)}</span>}
      </div>
      {save.isSuccess && <p role="status">{t('promotions.saved')}</p>}
      <PromotionForm
        key={p ? p.updatedAt : 'new'}
        initial={p ? draftOf(p) : EMPTY}
        submitLabel={id ? t('common.save') : t('common.create')}
        busy={save.isPending}
        error={save.error}
        onSubmit={(d) => save.mutate(d)}
      />
      {p && (
        <>
          <PromotionCodes promotion={p} />
          <PromotionRedemptions promotion={p} />
        </>
      )}
    </>
  );
}
