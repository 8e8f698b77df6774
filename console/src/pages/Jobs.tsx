/** Scheduled jobs: schedule, next and last run, run now; the history with progress and results. */
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { useState } from 'react';
import { api, unwrap } from '../api';
import { count, dateTime } from '../format';
import { ErrorBox, QueryState, StatusBadge, Table } from '../ui';

export function useRunJob() {
  const queryClient = useQueryClient();
  return useMutation({
    mutationFn: (name: string) => unwrap(api.POST('/admin/jobs/{name}/run', { params: { path: { name } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['job-runs'] }),
  });
}

export function Jobs() {
  const { t } = useTranslation();
  const [before, setBefore] = useState<number[]>([]);
  const jobs = useQuery({
    queryKey: ['jobs'],
    queryFn: () => unwrap(api.GET('/admin/jobs')),
    refetchInterval: 5_000,
  });
  const runs = useQuery({
    queryKey: ['job-runs', 'all', before],
    queryFn: () =>
      unwrap(
        api.GET('/admin/jobs/runs', {
          params: { query: { limit: 25, ...(before.length ? { before: before[before.length - 1] } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 3_000,
  });
  const run = useRunJob();
  return (
    <>
      <h1>{t('jobs.title')}</h1>
      {run.isSuccess && <p role="status">{t('jobs.queued')}</p>}
      {run.error && <ErrorBox error={run.error} />}
      <QueryState query={jobs}>
        {(d) => (
          <Table
            label={t('jobs.title')}
            head={[
              t('common.name'),
              t('jobs.schedule'),
              t('jobs.nextRun'),
              t('jobs.lastRun'),
              t('common.actions'),
            ]}
          >
            {d.items.map((j) => (
              <tr key={j.name}>
                <td>
                  <strong>{j.name}</strong>
                  <br />
                  <small>{j.description}</small>
                </td>
                <td>
                  <code>{j.schedule ?? t('jobs.manual')}</code>
                </td>
                <td>{dateTime(j.nextRunAt)}</td>
                <td>
                  {j.lastRun ? (
                    <>
                      <StatusBadge status={j.lastRun.status} /> {dateTime(j.lastRun.startedAt)}
                    </>
                  ) : (
                    '—'
                  )}
                </td>
                <td>
                  <button type="button" disabled={run.isPending} onClick={() => run.mutate(j.name)}>
                    {t('common.run')}
                  </button>
                </td>
              </tr>
            ))}
          </Table>
        )}
      </QueryState>
      <h2>{t('jobs.runs')}</h2>
      <QueryState query={runs}>
        {(d) => (
          <>
            <Table
              label={t('jobs.runs')}
              head={[
                t('common.name'),
                t('common.status'),
                t('jobs.started'),
                t('jobs.finished'),
                t('jobs.progress'),
                t('jobs.result'),
              ]}
            >
              {d.items.map((r) => (
                <tr key={r.id}>
                  <td>{r.job}</td>
                  <td>
                    <StatusBadge status={r.status} />
                  </td>
                  <td>{dateTime(r.startedAt)}</td>
                  <td>{dateTime(r.finishedAt)}</td>
                  <td>
                    {r.progress
                      ? `${count(r.progress.done)}${r.progress.total ? ` / ${count(r.progress.total)}` : ''} ${r.progress.unit ?? ''}`
                      : '—'}
                  </td>
                  <td>
                    {r.error ? (
                      <span className="error">{r.error}</span>
                    ) : r.result ? (
                      <code>{JSON.stringify(r.result)}</code>
                    ) : (
                      '—'
                    )}
                  </td>
                </tr>
              ))}
            </Table>
            <nav className="pager" aria-label="pagination">
              <button
                type="button"
                disabled={before.length === 0}
                onClick={() => setBefore((b) => b.slice(0, -1))}
              >
                ← {t('common.previous')}
              </button>
              <button
                type="button"
                disabled={d.nextBefore === null}
                onClick={() => d.nextBefore !== null && setBefore((b) => [...b, d.nextBefore!])}
              >
                {t('common.next')} →
              </button>
            </nav>
          </>
        )}
      </QueryState>
    </>
  );
}
