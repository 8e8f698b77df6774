/** Orders: by status and date, newest first; the detail with items, payments and allowed moves. */
import { useState } from 'react';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link, useParams, useSearchParams } from 'react-router';
import { createColumnHelper } from '@tanstack/react-table';
import { api, unwrap, type Get } from '../api';
import { dateTime, maskDocument, money, startOfDay, timeZone } from '../format';
import {
  ConfirmButton,
  DataTable,
  ErrorBox,
  Pager,
  QueryState,
  StatusBadge,
  Table,
  useKeysetPager,
} from '../ui';

const STATUSES = ['pending', 'confirmed', 'shipped', 'delivered', 'cancelled', 'refunded'] as const;
type Order = Get<'/admin/orders'>['items'][number];
const col = createColumnHelper<Order>();

/** The orders table; `customerId` narrows it to one customer (the customer page). */
export function OrderTable({ customerId, live }: { customerId?: string; live?: boolean }) {
  const { t } = useTranslation();
  const [params, setParams] = useSearchParams();
  const status = customerId ? '' : (params.get('status') ?? '');
  const from = customerId ? '' : (params.get('from') ?? '');
  const to = customerId ? '' : (params.get('to') ?? '');
  const pager = useKeysetPager();
  const list = useQuery({
    queryKey: ['orders', status, from, to, customerId, pager.cursor],
    queryFn: () =>
      unwrap(
        api.GET('/admin/orders', {
          params: {
            query: {
              limit: 25,
              ...(status ? { status: status as (typeof STATUSES)[number] } : {}),
              ...(from ? { from: startOfDay(from, timeZone()) } : {}),
              ...(to ? { to: startOfDay(to, timeZone(), 1) } : {}),
              ...(customerId ? { customerId } : {}),
              ...(pager.cursor ? { cursor: pager.cursor } : {}),
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    // New orders show up on their own on the first page.
    refetchInterval: live && !pager.cursor ? 2_000 : false,
  });
  const set = (k: string, v: string) => {
    const next = new URLSearchParams(params);
    if (v) next.set(k, v);
    else next.delete(k);
    setParams(next, { replace: true });
    pager.reset();
  };
  const columns = [
    col.accessor('id', {
      header: () => 'ID',
      cell: (c) => <Link to={`/orders/${c.getValue()}`}>{c.getValue().slice(0, 8)}</Link>,
    }),
    col.accessor('status', {
      header: () => t('orders.status'),
      cell: (c) => <StatusBadge status={c.getValue()} />,
    }),
    col.accessor('totalAmount', { header: () => t('orders.total'), cell: (c) => money(c.getValue()) }),
    col.accessor((o) => o.items.reduce((n, i) => n + i.quantity, 0), {
      id: 'items',
      header: () => t('orders.items'),
    }),
    col.accessor('customerId', {
      header: () => t('orders.customer'),
      cell: (c) => {
        const id = c.getValue();
        return id ? <Link to={`/customers/${id}`}>{id.slice(0, 8)}</Link> : t('orders.guest');
      },
    }),
    col.accessor('createdAt', { header: () => t('common.created'), cell: (c) => dateTime(c.getValue()) }),
  ];
  return (
    <>
      {!customerId && (
        <div className="filters">
          <label>
            {t('orders.status')}
            <select value={status} onChange={(e) => set('status', e.target.value)}>
              <option value="">{t('common.all')}</option>
              {STATUSES.map((s) => (
                <option key={s} value={s}>
                  {t(`status.${s}`)}
                </option>
              ))}
            </select>
          </label>
          <label>
            {t('orders.from')}
            <input type="date" value={from} onChange={(e) => set('from', e.target.value)} />
          </label>
          <label>
            {t('orders.to')}
            <input type="date" value={to} onChange={(e) => set('to', e.target.value)} />
          </label>
        </div>
      )}
      <QueryState query={list}>
        {(d) => (
          <>
            <DataTable data={d.items} columns={columns} label={t('orders.title')} />
            <Pager pager={pager} nextCursor={d.nextCursor} />
          </>
        )}
      </QueryState>
    </>
  );
}

export function Orders() {
  const { t } = useTranslation();
  return (
    <>
      <h1>{t('orders.title')}</h1>
      <OrderTable live />
    </>
  );
}

export function OrderDetail() {
  const { id } = useParams() as { id: string };
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const order = useQuery({
    queryKey: ['order', id],
    queryFn: () => unwrap(api.GET('/admin/orders/{id}', { params: { path: { id } } })),
    refetchInterval: 5_000,
  });
  const payments = useQuery({
    queryKey: ['order-payments', id],
    queryFn: () => unwrap(api.GET('/admin/orders/{id}/payments', { params: { path: { id } } })),
  });
  const history = useQuery({
    queryKey: ['order-events', id],
    queryFn: () => unwrap(api.GET('/admin/orders/{id}/events', { params: { path: { id } } })),
    refetchInterval: 5_000,
  });
  const [carrier, setCarrier] = useState('Correios');
  const [trackingCode, setTrackingCode] = useState('');
  const ship = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/admin/orders/{id}/fulfillments', {
          params: { path: { id } },
          body: { carrier: carrier.trim(), trackingCode: trackingCode.trim() },
        }),
      ),
    onSuccess: async () => {
      setTrackingCode('');
      await queryClient.invalidateQueries({ queryKey: ['order', id] });
      await queryClient.invalidateQueries({ queryKey: ['order-events', id] });
      await queryClient.invalidateQueries({ queryKey: ['orders'] });
    },
  });
  const [message, setMessage] = useState<string | null>(null);
  const move = useMutation({
    mutationFn: (to: 'confirmed' | 'shipped' | 'delivered' | 'cancelled') =>
      unwrap(api.POST('/admin/orders/{id}/transition', { params: { path: { id } }, body: { to } })),
    onSuccess: async (o) => {
      setMessage(t(`status.${o.status}`));
      await queryClient.invalidateQueries({ queryKey: ['order', id] });
      await queryClient.invalidateQueries({ queryKey: ['orders'] });
    },
  });
  return (
    <>
      <p>
        <Link to="/orders">← {t('orders.back')}</Link>
      </p>
      <QueryState query={order}>
        {(o) => (
          <>
            <h1>
              {t('orders.title')} {o.id.slice(0, 8)} <StatusBadge status={o.status} />
            </h1>
            <dl className="facts">
              <dt>{t('orders.total')}</dt>
              <dd>{money(o.totalAmount)}</dd>
              <dt>{t('orders.customer')}</dt>
              <dd>
                {o.customerId ? (
                  <Link to={`/customers/${o.customerId}`}>{o.customerId}</Link>
                ) : (
                  t('orders.guest')
                )}
              </dd>
              <dt>{t('common.created')}</dt>
              <dd>{dateTime(o.createdAt)}</dd>
              <dt>{t('orders.subtotal')}</dt>
              <dd>{money(o.totals.subtotal)}</dd>
              <dt>{t('orders.shipping')}</dt>
              <dd>
                {o.shipping
                  ? `${money(o.shipping.price)} · ${o.shipping.carrier} ${o.shipping.service} · ${t('orders.deliveryDays', o.shipping.deliveryDays)}`
                  : '—'}
              </dd>
              <dt>{t('orders.buyer')}</dt>
              <dd>{o.buyer ? `${o.buyer.name} · ${o.buyer.email}` : '—'}</dd>
              <dt>{t('orders.document')}</dt>
              <dd data-testid="order-document">{maskDocument(o.buyer?.document)}</dd>
            </dl>
            <h2>{t('orders.address')}</h2>
            {o.shippingAddress ? (
              <address data-testid="order-address">
                {o.shippingAddress.recipient}
                <br />
                {o.shippingAddress.street}, {o.shippingAddress.number}
                {o.shippingAddress.complement ? ` — ${o.shippingAddress.complement}` : ''}
                <br />
                {o.shippingAddress.district} · {o.shippingAddress.city}/{o.shippingAddress.state} ·{' '}
                {o.shippingAddress.cep.replace(/^(\d{5})(\d{3})$/, '$1-$2')}
              </address>
            ) : (
              <p className="empty">{t('orders.noAddress')}</p>
            )}
            <h2>{t('orders.fulfillments')}</h2>
            {(o.fulfillments ?? []).length > 0 && (
              <Table
                head={[t('orders.carrier'), t('orders.trackingCode'), t('orders.units'), t('common.created')]}
              >
                {(o.fulfillments ?? []).map((f) => (
                  <tr key={f.id}>
                    <td>{f.carrier}</td>
                    <td>
                      {f.trackingUrl ? (
                        <a href={f.trackingUrl} target="_blank" rel="noreferrer">
                          {f.trackingCode}
                        </a>
                      ) : (
                        <code>{f.trackingCode}</code>
                      )}
                    </td>
                    <td>{f.items.reduce((n, i) => n + i.quantity, 0)}</td>
                    <td>{dateTime(f.createdAt)}</td>
                  </tr>
                ))}
              </Table>
            )}
            {o.status === 'confirmed' && (
              <form
                className="row"
                onSubmit={(e) => {
                  e.preventDefault();
                  ship.mutate();
                }}
              >
                <label>
                  {t('orders.carrier')}
                  <input
                    value={carrier}
                    maxLength={60}
                    onChange={(e) => setCarrier(e.target.value)}
                    required
                  />
                </label>
                <label>
                  {t('orders.trackingCode')}
                  <input
                    value={trackingCode}
                    maxLength={60}
                    pattern="[A-Za-z0-9-]+"
                    onChange={(e) => setTrackingCode(e.target.value)}
                    required
                  />
                </label>
                <button type="submit" className="primary" disabled={ship.isPending}>
                  {t('orders.ship')}
                </button>
              </form>
            )}
            {ship.error && <ErrorBox error={ship.error} />}
            <h2>{t('orders.transitions')}</h2>
            {o.transitions.length === 0 ? (
              <p>{t('orders.noTransitions')}</p>
            ) : (
              <div className="row">
                {o.transitions.map((to) =>
                  to === 'cancelled' ? (
                    <ConfirmButton
                      key={to}
                      danger
                      label={t('orders.moveTo', { status: t(`status.${to}`) })}
                      question={t('orders.confirmCancel')}
                      onConfirm={() => move.mutate(to)}
                    />
                  ) : (
                    <button
                      key={to}
                      type="button"
                      className="primary"
                      disabled={move.isPending}
                      onClick={() => move.mutate(to)}
                    >
                      {t('orders.moveTo', { status: t(`status.${to}`) })}
                    </button>
                  ),
                )}
              </div>
            )}
            {message && <p role="status">{message}</p>}
            {move.error && <ErrorBox error={move.error} />}
            <h2>{t('orders.items')}</h2>
            <Table head={[t('orders.product'), t('orders.quantity'), t('orders.unitPrice')]}>
              {o.items.map((i) => (
                <tr key={i.id}>
                  <td>
                    {i.productId ? (
                      <Link to={`/products/${i.productId}`}>{i.productId.slice(0, 8)}</Link>
                    ) : (
                      '—'
                    )}
                  </td>
                  <td>{i.quantity}</td>
                  <td>{money(i.unitPrice)}</td>
                </tr>
              ))}
            </Table>
          </>
        )}
      </QueryState>
      <h2>{t('orders.history')}</h2>
      <QueryState query={history}>
        {(h) => (
          <Table head={[t('orders.at'), t('orders.event'), t('orders.actor')]}>
            {h.items.map((e, i) => (
              <tr key={`${e.at}-${i}`}>
                <td>{dateTime(e.at)}</td>
                <td>
                  {e.type}
                  {typeof e.data.status === 'string' ? ` → ${t(`status.${e.data.status}`)}` : ''}
                </td>
                <td>
                  {e.actor.type}
                  {e.actor.name && e.actor.type !== 'customer' ? ` · ${e.actor.name}` : ''}
                </td>
              </tr>
            ))}
          </Table>
        )}
      </QueryState>
      <h2>{t('orders.payments')}</h2>
      <QueryState query={payments}>
        {(p) =>
          p.items.length === 0 ? (
            <p className="empty">{t('common.none')}</p>
          ) : (
            <Table
              head={[
                t('orders.provider'),
                t('orders.method'),
                t('orders.installments'),
                t('common.status'),
                t('orders.amount'),
                t('orders.reference'),
                t('common.created'),
              ]}
            >
              {p.items.map((a) => (
                <tr key={a.id}>
                  <td>{a.provider}</td>
                  <td>{a.method ?? '—'}</td>
                  <td>
                    {a.installments
                      ? `${a.installments.count} × ${money(a.installments.amount)} (${t(
                          a.installments.interestFree ? 'orders.interestFree' : 'orders.withInterest',
                        )})`
                      : '—'}
                  </td>
                  <td>
                    <StatusBadge status={a.status} />
                  </td>
                  <td>{money(a.amount)}</td>
                  <td>
                    <code>{a.providerReference ?? '—'}</code>
                  </td>
                  <td>{dateTime(a.createdAt)}</td>
                </tr>
              ))}
            </Table>
          )
        }
      </QueryState>
    </>
  );
}
