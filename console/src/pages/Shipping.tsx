/** Freight zones of the table engine: where each delivers (UFs, CEP ranges), by weight, free above. */
import { useState, type FormEvent } from 'react';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, unwrap } from '../api';
import type { paths } from '../api/schema';
import { money, parseMoney } from '../format';
import { ConfirmButton, ErrorBox, QueryState, Table } from '../ui';

type Bracket = { maxGrams: number; price: number; minDays: number; maxDays: number };
type ZoneBody = paths['/admin/shipping/zones']['post']['requestBody'] extends
  { content: { 'application/json': infer B } } | undefined
  ? B
  : never;

/** "1000 19,90 1 2" per line: up to grams, price, days min and max. Null when a line is malformed. */
function parseBrackets(text: string): Bracket[] | null {
  const out: Bracket[] = [];
  for (const line of text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)) {
    const [grams, price, min, max] = line.split(/\s+/);
    const cents = price === undefined ? null : parseMoney(price);
    const nums = [grams, min, max].map((v) => Number(v));
    if (cents === null || nums.some((n) => !Number.isInteger(n) || n < 0)) return null;
    out.push({ maxGrams: nums[0]!, price: cents, minDays: nums[1]!, maxDays: nums[2]! });
  }
  return out.length ? out : null;
}

/** "01000000-05999999" per line. */
const parseRanges = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim().replace(/[^0-9-]/g, ''))
    .filter(Boolean)
    .map((l) => {
      const [from = '', to = ''] = l.split('-');
      return { from, to };
    });

export function Shipping() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const zones = useQuery({
    queryKey: ['shipping-zones'],
    queryFn: () => unwrap(api.GET('/admin/shipping/zones')),
  });
  const refresh = () => queryClient.invalidateQueries({ queryKey: ['shipping-zones'] });
  const [form, setForm] = useState({
    name: '',
    carrier: 'Correios',
    service: 'PAC',
    states: '',
    ranges: '',
    brackets: '1000 19,90 3 5',
    freeAbove: '',
  });
  const [invalid, setInvalid] = useState(false);
  const create = useMutation({
    mutationFn: (body: ZoneBody) => unwrap(api.POST('/admin/shipping/zones', { body })),
    onSuccess: async () => {
      setForm((f) => ({ ...f, name: '', states: '', ranges: '' }));
      await refresh();
    },
  });
  const toggle = useMutation({
    mutationFn: ({ id, active }: { id: string; active: boolean }) =>
      unwrap(api.PATCH('/admin/shipping/zones/{id}', { params: { path: { id } }, body: { active } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) =>
      unwrap(api.DELETE('/admin/shipping/zones/{id}', { params: { path: { id } } })),
    onSuccess: refresh,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const brackets = parseBrackets(form.brackets);
    const freeAbove = form.freeAbove.trim() ? parseMoney(form.freeAbove) : null;
    if (!brackets || (form.freeAbove.trim() && freeAbove === null)) return setInvalid(true);
    setInvalid(false);
    const states = form.states
      .split(/[\s,;]+/)
      .map((s) => s.trim().toUpperCase())
      .filter(Boolean) as NonNullable<ZoneBody['states']>;
    create.mutate({
      name: form.name.trim(),
      carrier: form.carrier.trim(),
      service: form.service.trim(),
      states,
      cepRanges: parseRanges(form.ranges),
      brackets,
      freeAbove,
      active: true,
    });
  };
  const field = (key: keyof typeof form) => ({
    value: form[key],
    onChange: (e: { target: { value: string } }) => setForm((f) => ({ ...f, [key]: e.target.value })),
  });
  return (
    <>
      <h1>{t('shipping.title')}</h1>
      <p>{t('shipping.help')}</p>
      <QueryState query={zones}>
        {(z) =>
          z.items.length === 0 ? (
            <p className="empty">{t('common.none')}</p>
          ) : (
            <Table
              head={[
                t('shipping.name'),
                t('shipping.service'),
                t('shipping.where'),
                t('shipping.brackets'),
                t('shipping.freeAbove'),
                '',
              ]}
            >
              {z.items.map((zone) => (
                <tr key={zone.id} className={zone.active ? undefined : 'muted'}>
                  <td>{zone.name}</td>
                  <td>
                    {zone.carrier} {zone.service}
                  </td>
                  <td>{[...zone.states, ...zone.cepRanges.map((r) => `${r.from}–${r.to}`)].join(', ')}</td>
                  <td>
                    {zone.brackets
                      .map((b) => `≤ ${b.maxGrams} g: ${money(b.price)} (${b.minDays}–${b.maxDays})`)
                      .join('; ')}
                  </td>
                  <td>{zone.freeAbove === null ? '—' : money(zone.freeAbove)}</td>
                  <td className="row">
                    <button
                      type="button"
                      disabled={toggle.isPending}
                      onClick={() => toggle.mutate({ id: zone.id, active: !zone.active })}
                    >
                      {zone.active ? t('shipping.deactivate') : t('shipping.activate')}
                    </button>
                    <ConfirmButton
                      danger
                      label={t('shipping.delete')}
                      question={t('shipping.confirmDelete', { name: zone.name })}
                      onConfirm={() => remove.mutate(zone.id)}
                    />
                  </td>
                </tr>
              ))}
            </Table>
          )
        }
      </QueryState>
      {(toggle.error ?? remove.error) && <ErrorBox error={toggle.error ?? remove.error} />}
      <h2>{t('shipping.add')}</h2>
      <form className="stack" onSubmit={submit}>
        <label>
          {t('shipping.name')}
          <input required maxLength={120} {...field('name')} />
        </label>
        <label>
          {t('shipping.carrier')}
          <input required maxLength={60} {...field('carrier')} />
        </label>
        <label>
          {t('shipping.service')}
          <input required maxLength={60} {...field('service')} />
        </label>
        <label>
          {t('shipping.states')}
          <input placeholder="SP, RJ" {...field('states')} />
        </label>
        <label>
          {t('shipping.ranges')}
          <textarea rows={2} placeholder="01000000-05999999" {...field('ranges')} />
        </label>
        <label>
          {t('shipping.bracketsHelp')}
          <textarea rows={3} required {...field('brackets')} />
        </label>
        <label>
          {t('shipping.freeAbove')}
          <input inputMode="decimal" placeholder="299,90" {...field('freeAbove')} />
        </label>
        <button type="submit" className="primary" disabled={create.isPending}>
          {t('shipping.add')}
        </button>
      </form>
      {invalid && <p role="alert">{t('shipping.invalid')}</p>}
      {create.error && <ErrorBox error={create.error} />}
    </>
  );
}
