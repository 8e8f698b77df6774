/** Money, dates and numbers as the store shows them: BRL, the store's time zone, the chosen language. */
import i18n from './i18n';

const locale = () => (i18n.language === 'en' ? 'en-US' : 'pt-BR');

/** Integer centavos as BRL (R$ 1.234,56 in Portuguese, R$1,234.56 in English). */
export const money = (cents: number): string =>
  new Intl.NumberFormat(locale(), { style: 'currency', currency: 'BRL' }).format(cents / 100);

export const count = (n: number): string => new Intl.NumberFormat(locale()).format(n);

let storeTimeZone = 'America/Sao_Paulo';
/** Set once the server said which time zone the store keeps (GET /admin/orders/overview). */
export const setStoreTimeZone = (tz: string) => {
  storeTimeZone = tz;
};
export const timeZone = () => storeTimeZone;

export const dateTime = (iso: string | null | undefined): string =>
  iso
    ? new Intl.DateTimeFormat(locale(), {
        dateStyle: 'short',
        timeStyle: 'medium',
        timeZone: storeTimeZone,
      }).format(new Date(iso))
    : '—';

export const time = (iso: string): string =>
  new Intl.DateTimeFormat(locale(), { hour: '2-digit', minute: '2-digit', timeZone: storeTimeZone }).format(
    new Date(iso),
  );

export const bytes = (n: number): string =>
  n < 1024 ** 2 ? `${count(Math.round(n / 1024))} KiB` : `${count(Math.round(n / 1024 ** 2))} MiB`;

/** Integer centavos as a person types them back into a field ("45,90"): the inverse of parseMoney. */
export const moneyInput = (cents: number): string => (cents / 100).toFixed(2).replace('.', ',');

/** A price typed by a person ("45,90", "45.90", "1.234,50") as integer centavos, or null. */
export function parseMoney(text: string): number | null {
  const t = text.trim().replace(/^R\$\s*/, '');
  if (!/^\d{1,3}([.,]?\d{3})*([.,]\d{1,2})?$/.test(t)) return null;
  const m = /^(.*?)(?:[.,](\d{1,2}))?$/.exec(t)!;
  const whole = m[1]!.replace(/[.,]/g, '');
  return Number(whole) * 100 + Number((m[2] ?? '0').padEnd(2, '0'));
}

/** How far the wall clock of time zone `tz` is ahead of UTC at the instant `utc` (ms). */
function zoneOffset(utc: number, tz: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', {
      timeZone: tz,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    })
      .formatToParts(new Date(utc))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(
    +parts.year!,
    +parts.month! - 1,
    +parts.day!,
    +parts.hour!,
    +parts.minute!,
    +parts.second!,
  );
  return wall - utc;
}

/** The instant a calendar day (`YYYY-MM-DD`, plus `addDays`) starts in time zone `tz`, as ISO. */
export function startOfDay(day: string, tz: string, addDays = 0): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  const utcMidnight = Date.UTC(y, m - 1, d + addDays);
  return new Date(utcMidnight - zoneOffset(utcMidnight, tz)).toISOString();
}

/** A wall-clock time in the store's zone (`YYYY-MM-DDTHH:mm`, a datetime-local field) as ISO, or null. */
export function fromStoreLocal(text: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const asUtc = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!);
  return new Date(asUtc - zoneOffset(asUtc, storeTimeZone)).toISOString();
}

/** An instant as the store's wall clock, for a datetime-local field (`YYYY-MM-DDTHH:mm`). */
export function toStoreLocal(iso: string | null | undefined): string {
  if (!iso) return '';
  const utc = Date.parse(iso);
  return new Date(utc + zoneOffset(utc, storeTimeZone)).toISOString().slice(0, 16);
}

/** A CPF or CNPJ as the console shows it: masked (the first and last characters kept). */
export function maskDocument(doc: { type: string; number: string } | null | undefined): string {
  if (!doc) return '—';
  const n = doc.number.replace(/[^0-9A-Za-z]/g, '');
  return doc.type === 'cpf'
    ? `${n.slice(0, 3)}.***.***-${n.slice(-2)}`
    : `${n.slice(0, 2)}.***.***/****-${n.slice(-2)}`;
}
