/** What the operator and the on-call engineer look at first; every card refreshes on its own. */
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { Link } from 'react-router';
import { api, unwrap } from '../api';
import { count, dateTime, money, time } from '../format';
import { QueryState, StatusBadge, ItemList } from '../ui';
import { useMay } from '../access';

const LIVE = { refetchInterval: 5_000 } as const;

export function Dashboard() {
  const { t } = useTranslation();
  // Each card is shown (and polled) only when the key may read it.
  const orders = useMay('orders');
  const inventory = useMay('inventory');
  const operations = useMay('operations');
  const overview = useQuery({
    queryKey: ['overview'],
    queryFn: () => unwrap(api.GET('/admin/orders/overview')),
    enabled: orders,
    ...LIVE,
  });
  const low = useQuery({
    queryKey: ['low-stock', 5],
    queryFn: () => unwrap(api.GET('/admin/inventory/low-stock', { params: { query: { limit: 5 } } })),
    enabled: inventory,
    ...LIVE,
  });
  const outbox = useQuery({
    queryKey: ['outbox'],
    queryFn: () => unwrap(api.GET('/admin/outbox')),
    enabled: operations,
    ...LIVE,
  });
  const runs = useQuery({
    queryKey: ['job-runs', 'recent'],
    queryFn: () => unwrap(api.GET('/admin/jobs/runs', { params: { query: { limit: 6 } } })),
    enabled: operations,
    ...LIVE,
  });
  // /health/ready answers 503 with the same body when a required dependency is down.
  const health = useQuery({
    queryKey: ['health'],
    queryFn: async () => {
      const r = await api.GET('/health/ready');
      // Any other error (4xx) has the error body instead.
      if (r.error && 'error' in r.error) throw new Error(r.error.error.message);
      const body = r.data ?? r.error;
      if (!body) throw new Error('no answer');
      return body;
    },
    ...LIVE,
  });

  return (
    <>
      <h1>{t('nav.dashboard')}</h1>
      <div className="cards">
        {orders && (
          <>
            <section className="card" aria-labelledby="opm">
              <h2 id="opm">{t('dashboard.ordersPerMinute')}</h2>
              <QueryState query={overview}>
                {(o) => {
                  const max = Math.max(1, ...o.perMinute.map((m) => m.orders));
                  const last = o.perMinute[o.perMinute.length - 1]?.orders ?? 0;
                  return (
                    <>
                      <p className="figure" data-testid="orders-last-minute">
                        {t('dashboard.lastMinute', { count: last })}
                      </p>
                      <div className="bars" role="img" aria-label={t('dashboard.ordersPerMinute')}>
                        {o.perMinute.map((m) => (
                          <span
                            key={m.minute}
                            title={`${time(m.minute)}: ${m.orders}`}
                            style={{ height: `${(m.orders / max) * 100}%` }}
                          />
                        ))}
                      </div>
                    </>
                  );
                }}
              </QueryState>
            </section>
            <section className="card" aria-labelledby="rev">
              <h2 id="rev">{t('dashboard.revenueToday')}</h2>
              <QueryState query={overview}>
                {(o) => (
                  <>
                    <p className="figure" data-testid="revenue-today">
                      {money(o.today.revenueCents)}
                    </p>
                    <p>{t('dashboard.ordersToday', { count: o.today.orders })}</p>
                    <p>
                      <Link to="/orders?status=pending">
                        {t('dashboard.pending')}: {count(o.pending)}
                      </Link>
                    </p>
                  </>
                )}
              </QueryState>
            </section>
          </>
        )}
        {inventory && (
          <section className="card" aria-labelledby="low">
            <h2 id="low">{t('dashboard.lowStock')}</h2>
            <QueryState query={low}>
              {(l) => (
                <ItemList items={l.items}>
                  {(i) => (
                    <li key={i.productId}>
                      <Link to={`/products/${i.productId}`}>{i.name}</Link>{' '}
                      <strong>{count(i.availableQuantity)}</strong>
                    </li>
                  )}
                </ItemList>
              )}
            </QueryState>
          </section>
        )}
        {operations && (
          <section className="card" aria-labelledby="outbox">
            <h2 id="outbox">{t('dashboard.outbox')}</h2>
            <QueryState query={outbox}>
              {(o) => (
                <>
                  <p className="figure">{count(o.pending)}</p>
                  <p>{t('dashboard.oldest', { seconds: Math.round(o.oldestPendingSeconds) })}</p>
                </>
              )}
            </QueryState>
          </section>
        )}
        <section className="card" aria-labelledby="health">
          <h2 id="health">{t('dashboard.health')}</h2>
          <QueryState query={health}>
            {(h) => (
              <ul className="plain">
                {Object.entries(h.dependencies).map(([name, d]) => (
                  <li key={name}>
                    <span className={`dot dot-${d.status}`} aria-hidden /> {name}: {d.status}
                  </li>
                ))}
              </ul>
            )}
          </QueryState>
        </section>
        {operations && (
          <section className="card wide" aria-labelledby="runs">
            <h2 id="runs">{t('dashboard.jobs')}</h2>
            <QueryState query={runs}>
              {(r) => (
                <ItemList items={r.items}>
                  {(run) => (
                    <li key={run.id}>
                      <StatusBadge status={run.status} /> {run.job} · {dateTime(run.startedAt)}
                    </li>
                  )}
                </ItemList>
              )}
            </QueryState>
          </section>
        )}
      </div>
    </>
  );
}
