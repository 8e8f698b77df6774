/** The search index: a zero-downtime rebuild with progress, and reconcile (a job). */
import { useState } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api';
import { count, dateTime } from '../format';
import { ErrorBox, QueryState, StatusBadge, ItemList } from '../ui';

export function Search() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [jobId, setJobId] = useState<string | null>(null);
  const start = useMutation({
    mutationFn: () => unwrap(api.POST('/admin/search/reindex')),
    onSuccess: (r) => setJobId(r.jobId),
  });
  const progress = useQuery({
    queryKey: ['reindex', jobId],
    queryFn: () => unwrap(api.GET('/admin/search/reindex/{jobId}', { params: { path: { jobId: jobId! } } })),
    enabled: jobId !== null,
    refetchInterval: (q) => (q.state.data?.status === 'running' ? 1_000 : false),
  });
  const reconcile = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/admin/jobs/{name}/run', { params: { path: { name: 'search-reconcile' } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['job-runs', 'search-reconcile'] }),
  });
  const runs = useQuery({
    queryKey: ['job-runs', 'search-reconcile'],
    queryFn: () =>
      unwrap(api.GET('/admin/jobs/runs', { params: { query: { job: 'search-reconcile', limit: 5 } } })),
    refetchInterval: 3_000,
  });
  const p = progress.data;
  return (
    <>
      <h1>{t('search.title')}</h1>
      <section aria-labelledby="reindex">
        <h2 id="reindex">{t('search.reindex')}</h2>
        <p>{t('search.reindexHelp')}</p>
        <button
          type="button"
          className="primary"
          disabled={start.isPending || p?.status === 'running'}
          onClick={() => start.mutate()}
        >
          {t('search.reindex')}
        </button>
        {start.error && <ErrorBox error={start.error} />}
        {p && (
          <div role="status">
            <StatusBadge status={p.status} />{' '}
            {t('search.progress', { done: count(p.done), total: count(p.total) })}
            <progress max={Math.max(1, p.total)} value={p.done} />
            {p.error && <ErrorBox error={new Error(p.error)} />}
          </div>
        )}
      </section>
      <section aria-labelledby="reconcile">
        <h2 id="reconcile">{t('search.reconcile')}</h2>
        <p>{t('search.reconcileHelp')}</p>
        <button type="button" disabled={reconcile.isPending} onClick={() => reconcile.mutate()}>
          {t('search.reconcile')}
        </button>
        {reconcile.isSuccess && <p role="status">{t('jobs.queued')}</p>}
        {reconcile.error && <ErrorBox error={reconcile.error} />}
        <h3>{t('search.lastReconcile')}</h3>
        <QueryState query={runs}>
          {(r) => (
            <ItemList items={r.items}>
              {(run) => (
                <li key={run.id}>
                  <StatusBadge status={run.status} /> {dateTime(run.startedAt)}{' '}
                  {run.result && <code>{JSON.stringify(run.result)}</code>}
                </li>
              )}
            </ItemList>
          )}
        </QueryState>
      </section>
    </>
  );
}
