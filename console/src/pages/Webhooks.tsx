/** Outgoing webhooks: the endpoints and their state, and one endpoint's recent deliveries. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api';
import { count, dateTime } from '../format';
import { ErrorBox, QueryState, StatusBadge, Table } from '../ui';

export function Webhooks() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [selected, setSelected] = useState<string | null>(null);
  const endpoints = useQuery({
    queryKey: ['webhooks'],
    queryFn: () => unwrap(api.GET('/admin/webhooks')),
    refetchInterval: 5_000,
  });
  const deliveries = useQuery({
    queryKey: ['webhook-deliveries', selected],
    queryFn: () =>
      unwrap(
        api.GET('/admin/webhooks/{id}/deliveries', {
          params: { path: { id: selected! }, query: { limit: 25 } },
        }),
      ),
    enabled: selected !== null,
    refetchInterval: 3_000,
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['webhook'], exact: false });
  const toggle = useMutation({
    mutationFn: (e: { id: string; enabled: boolean }) =>
      unwrap(
        api.PATCH('/admin/webhooks/{id}', { params: { path: { id: e.id } }, body: { enabled: e.enabled } }),
      ),
    onSuccess: () => Promise.all([refresh(), queryClient.invalidateQueries({ queryKey: ['webhooks'] })]),
  });
  const test = useMutation({
    mutationFn: (id: string) => unwrap(api.POST('/admin/webhooks/{id}/test', { params: { path: { id } } })),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['webhook-deliveries'] }),
  });
  const retry = useMutation({
    mutationFn: (d: { id: string; deliveryId: string }) =>
      unwrap(
        api.POST('/admin/webhooks/{id}/deliveries/{deliveryId}/retry', {
          params: { path: { id: d.id, deliveryId: d.deliveryId } },
        }),
      ),
    onSuccess: () => queryClient.invalidateQueries({ queryKey: ['webhook-deliveries'] }),
  });
  const error = toggle.error ?? test.error ?? retry.error;
  return (
    <>
      <h1>{t('webhooks.title')}</h1>
      <p>{t('webhooks.help')}</p>
      {error && <ErrorBox error={error} />}
      <QueryState query={endpoints}>
        {(d) =>
          d.items.length === 0 ? (
            <p className="empty">{t('common.none')}</p>
          ) : (
            <Table
              label={t('webhooks.endpoints')}
              head={[t('webhooks.url'), t('webhooks.events'), t('webhooks.state'), t('common.actions')]}
            >
              {d.items.map((e) => (
                <tr key={e.id} aria-selected={e.id === selected}>
                  <td>
                    <code>{e.url}</code>
                    {e.description && <div className="hint">{e.description}</div>}
                  </td>
                  <td>{e.events.join(', ')}</td>
                  <td>
                    {e.enabled ? (
                      <StatusBadge status="enabled" />
                    ) : (
                      <span className="badge badge-failed">
                        {e.disabledReason === 'failing'
                          ? t('webhooks.disabledFailing')
                          : t('webhooks.disabled')}
                      </span>
                    )}
                    {e.failingSince && (
                      <div className="hint">
                        {t('webhooks.failingSince', { at: dateTime(e.failingSince) })}
                      </div>
                    )}
                  </td>
                  <td className="row">
                    <button type="button" onClick={() => setSelected(e.id)}>
                      {t('webhooks.deliveries')}
                    </button>
                    <button type="button" disabled={test.isPending} onClick={() => test.mutate(e.id)}>
                      {t('webhooks.test')}
                    </button>
                    <button
                      type="button"
                      disabled={toggle.isPending}
                      onClick={() => toggle.mutate({ id: e.id, enabled: !e.enabled })}
                    >
                      {e.enabled ? t('webhooks.disable') : t('webhooks.enable')}
                    </button>
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </QueryState>
      {selected && (
        <section aria-label={t('webhooks.deliveries')}>
          <h2>{t('webhooks.deliveries')}</h2>
          <QueryState query={deliveries}>
            {(d) =>
              d.items.length === 0 ? (
                <p className="empty">{t('common.none')}</p>
              ) : (
                <Table
                  label={t('webhooks.deliveries')}
                  head={[
                    t('common.created'),
                    t('webhooks.event'),
                    t('webhooks.state'),
                    t('webhooks.attempts'),
                    t('webhooks.response'),
                    t('webhooks.nextAttempt'),
                    t('common.actions'),
                  ]}
                >
                  {d.items.map((x) => (
                    <tr key={x.id}>
                      <td>{dateTime(x.createdAt)}</td>
                      <td>
                        {x.eventType}
                        <div className="hint">
                          <code>{x.webhookId}</code>
                        </div>
                      </td>
                      <td>
                        <StatusBadge status={x.retrying ? 'retrying' : x.status} />
                      </td>
                      <td>{count(x.attempts)}</td>
                      <td>
                        {x.responseStatus ?? '—'}
                        {x.durationMs !== null && ` · ${count(x.durationMs)} ms`}
                        {(x.error ?? x.response) && (
                          <div className="hint">
                            <code>{(x.error ?? x.response)!.slice(0, 120)}</code>
                          </div>
                        )}
                      </td>
                      <td>{x.nextAttemptAt ? dateTime(x.nextAttemptAt) : '—'}</td>
                      <td>
                        {x.status !== 'delivered' && (
                          <button
                            type="button"
                            disabled={retry.isPending}
                            onClick={() => retry.mutate({ id: selected, deliveryId: x.id })}
                          >
                            {t('webhooks.retry')}
                          </button>
                        )}
                      </td>
                    </tr>
                  ))}
                </Table>
              )
            }
          </QueryState>
        </section>
      )}
    </>
  );
}
