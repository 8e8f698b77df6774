/** Logical backups with their last verification; create, verify and prune run as jobs. */
import { useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api';
import { bytes, count, dateTime } from '../format';
import { ErrorBox, QueryState, Table } from '../ui';
import { useRunJob } from './Jobs';

export function Backups() {
  const { t } = useTranslation();
  // The listing reads every backup's manifest from storage: once a minute is plenty.
  const list = useQuery({
    queryKey: ['backups'],
    queryFn: () => unwrap(api.GET('/admin/backups')),
    refetchInterval: 60_000,
  });
  const run = useRunJob();
  return (
    <>
      <h1>{t('backups.title')}</h1>
      <p>{t('backups.help')}</p>
      <div className="row">
        <button
          type="button"
          className="primary"
          disabled={run.isPending}
          onClick={() => run.mutate('backup-create')}
        >
          {t('backups.create')}
        </button>
        <button type="button" disabled={run.isPending} onClick={() => run.mutate('backup-verify')}>
          {t('backups.verify')}
        </button>
        <button type="button" disabled={run.isPending} onClick={() => run.mutate('backup-prune')}>
          {t('backups.prune')}
        </button>
      </div>
      {run.isSuccess && <p role="status">{t('jobs.queued')}</p>}
      {run.error && <ErrorBox error={run.error} />}
      <QueryState query={list}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="empty">{t('common.none')}</p>
          ) : (
            <Table
              label={t('backups.title')}
              head={[
                'ID',
                t('common.created'),
                t('backups.size'),
                t('backups.schema'),
                t('nav.orders'),
                t('backups.verified'),
              ]}
            >
              {d.items.map((b) => (
                <tr key={b.id}>
                  <td>
                    <code>{b.id}</code>
                  </td>
                  <td>{dateTime(b.createdAt)}</td>
                  <td>{bytes(b.sizeBytes)}</td>
                  <td>{b.schemaVersion ?? '—'}</td>
                  <td>{count(b.counts.orders ?? 0)}</td>
                  <td>
                    {b.verified === null
                      ? t('backups.notVerified')
                      : b.verified.ok
                        ? `${dateTime(b.verified.at)} · ${t('backups.restoreTime', { seconds: (b.verified.restoreMs / 1000).toFixed(1) })}`
                        : t('backups.failed')}
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </QueryState>
    </>
  );
}
