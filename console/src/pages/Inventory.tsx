/** Stock: low levels and any product's level, live; adjust with a reason; reconcile reservations. */
import { useMemo, useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api';
import { count } from '../format';
import { useLiveStock, type Level } from '../live';
import { ErrorBox, Pager, QueryState, SearchForm, Table, useKeysetPager } from '../ui';

function Adjust({
  productId,
  current,
  onApplied,
}: {
  productId: string;
  current: number;
  onApplied: (available: number) => void;
}) {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [value, setValue] = useState(String(current));
  const [reason, setReason] = useState('');
  const apply = useMutation({
    mutationFn: () =>
      unwrap(
        api.PUT('/admin/inventory/{productId}', {
          params: { path: { productId } },
          body: { availableQuantity: Number(value), ...(reason.trim() ? { reason: reason.trim() } : {}) },
        }),
      ),
    onSuccess: async (level) => {
      onApplied(level.availableQuantity);
      await queryClient.invalidateQueries({ queryKey: ['low-stock'] });
    },
  });
  return (
    <form
      className="inline"
      onSubmit={(e) => {
        e.preventDefault();
        apply.mutate();
      }}
    >
      <label>
        {t('inventory.newAvailable')}
        <input type="number" min={0} required value={value} onChange={(e) => setValue(e.target.value)} />
      </label>
      <label>
        {t('inventory.reason')}
        <input
          value={reason}
          maxLength={200}
          placeholder={t('inventory.reasonPlaceholder')}
          onChange={(e) => setReason(e.target.value)}
        />
      </label>
      <button type="submit" disabled={apply.isPending}>
        {t('inventory.apply')}
      </button>
      {apply.error && <ErrorBox error={apply.error} />}
    </form>
  );
}

function LevelRow({
  id,
  name,
  level,
  live,
  onApplied,
}: {
  id: string;
  name: string;
  level: Level;
  live: Level | undefined;
  onApplied: (available: number) => void;
}) {
  const shown = live ?? level;
  return (
    <tr>
      <td>
        <Link to={`/products/${id}`}>{name}</Link>
      </td>
      <td data-testid={`available-${id}`}>{count(shown.availableQuantity)}</td>
      <td data-testid={`reserved-${id}`}>{count(shown.reservedQuantity)}</td>
      <td>
        <Adjust productId={id} current={shown.availableQuantity} onApplied={onApplied} />
      </td>
    </tr>
  );
}

export function Inventory() {
  const { t } = useTranslation();
  const pager = useKeysetPager();
  const [query, setQuery] = useState('');
  const low = useQuery({
    queryKey: ['low-stock', pager.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/admin/inventory/low-stock', {
          params: { query: { limit: 20, ...(pager.cursor ? { cursor: pager.cursor } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const found = useQuery({
    queryKey: ['products', query, 'inventory'],
    queryFn: () => unwrap(api.GET('/admin/products', { params: { query: { q: query, limit: 10 } } })),
    enabled: query.length > 0,
  });
  const ids = useMemo(
    () => [...(low.data?.items.map((i) => i.productId) ?? []), ...(found.data?.items.map((p) => p.id) ?? [])],
    [low.data, found.data],
  );
  const { levels, connected } = useLiveStock(ids);
  // Shown above the tables: an adjusted product may leave the low-stock list with its row.
  const [appliedLevel, setAppliedLevel] = useState<number | null>(null);
  const [report, setReport] = useState<{
    total: number;
    fixed: boolean;
    drift: { productId: string; reservedQuantity: number; expectedReserved: number }[];
  } | null>(null);
  const check = useMutation({
    mutationFn: (repair: boolean) =>
      unwrap(repair ? api.POST('/admin/inventory/reconcile') : api.GET('/admin/inventory/reconcile')),
    onSuccess: setReport,
  });

  const table = (label: string, rows: { id: string; name: string; level: Level }[]) => (
    <Table
      label={label}
      head={[t('common.name'), t('products.stock'), t('products.reserved'), t('inventory.adjust')]}
    >
      {rows.map((r) => (
        <LevelRow key={r.id} {...r} live={levels.get(r.id)} onApplied={setAppliedLevel} />
      ))}
    </Table>
  );

  return (
    <>
      <div className="title-row">
        <h1>{t('inventory.title')}</h1>
        <span className={connected ? 'live on' : 'live'}>{t('common.live')}</span>
      </div>
      <SearchForm label={t('inventory.lookup')} onSearch={setQuery} />
      {appliedLevel !== null && <p role="status">{t('inventory.applied', { count: appliedLevel })}</p>}
      {query && (
        <QueryState query={found}>
          {(d) =>
            table(
              t('inventory.lookup'),
              d.items.map((p) => ({
                id: p.id,
                name: p.name,
                level: { availableQuantity: p.availableQuantity, reservedQuantity: 0 },
              })),
            )
          }
        </QueryState>
      )}
      <h2>{t('dashboard.lowStock')}</h2>
      <QueryState query={low}>
        {(d) => (
          <>
            {d.items.length === 0 ? (
              <p className="empty">{t('common.none')}</p>
            ) : (
              table(
                t('dashboard.lowStock'),
                d.items.map((i) => ({ id: i.productId, name: i.name, level: i })),
              )
            )}
            <Pager pager={pager} nextCursor={d.nextCursor} />
          </>
        )}
      </QueryState>
      <h2>{t('inventory.reconcile')}</h2>
      <div className="row">
        <button type="button" onClick={() => check.mutate(false)} disabled={check.isPending}>
          {t('inventory.check')}
        </button>
        <button type="button" onClick={() => check.mutate(true)} disabled={check.isPending || !report?.total}>
          {t('inventory.repair')}
        </button>
      </div>
      {check.error && <ErrorBox error={check.error} />}
      {report && (
        <div role="status">
          {report.total === 0 ? (
            <p>{t('inventory.noDrift')}</p>
          ) : (
            <>
              <p>{t('inventory.drift', { count: report.total })}</p>
              <ul className="plain">
                {report.drift.map((d) => (
                  <li key={d.productId}>
                    <Link to={`/products/${d.productId}`}>{d.productId}</Link>: {t('products.reserved')}{' '}
                    {d.reservedQuantity}, {t('inventory.expected')} {d.expectedReserved}
                  </li>
                ))}
              </ul>
            </>
          )}
        </div>
      )}
    </>
  );
}
