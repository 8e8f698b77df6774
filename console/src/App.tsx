/** The frame: sign-in until a key works, then navigation, language and the page. */
import { useEffect, useState, type FormEvent } from 'react';
import { NavLink, Outlet } from 'react-router';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { api, auth, unwrap, type AuthEvent } from './api';
import { LANGUAGES } from './i18n';
import { setStoreTimeZone } from './format';
import { AccessContext, may, type Scope } from './access';

function SignIn({ notice }: { notice: AuthEvent | null }) {
  const { t } = useTranslation();
  const [key, setKey] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    // The key is checked (any valid key can read its own scopes) before it is kept.
    const res = await fetch('/admin/api-keys/me', {
      headers: { authorization: `Bearer ${key.trim()}` },
    }).catch(() => null);
    setBusy(false);
    if (res?.ok) auth.signIn(key.trim());
    else setError(res?.status === 401 || res?.status === 403 ? t('signIn.invalid') : t('common.error'));
  };
  return (
    <main className="signin">
      <form onSubmit={(e) => void submit(e)} aria-labelledby="signin-title">
        <h1 id="signin-title">{t('app.title')}</h1>
        {notice === 'revoked' && (
          <p role="alert" className="error">
            {t('signIn.revoked')}
          </p>
        )}
        {notice === 'signed-out' && <p role="status">{t('signIn.signedOut')}</p>}
        <label>
          {t('signIn.key')}
          <input
            type="password"
            autoComplete="off"
            value={key}
            onChange={(e) => setKey(e.target.value)}
            required
            autoFocus
          />
        </label>
        <p className="hint">{t('signIn.hint')}</p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !key.trim()}>
          {t('signIn.submit')}
        </button>
        <LanguagePicker />
      </form>
    </main>
  );
}

function LanguagePicker() {
  const { t, i18n } = useTranslation();
  return (
    <label className="language">
      {t('app.language')}
      <select value={i18n.language} onChange={(e) => void i18n.changeLanguage(e.target.value)}>
        {Object.entries(LANGUAGES).map(([code, name]) => (
          <option key={code} value={code}>
            {name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Each page and the scope it needs (the dashboard: any key; its cards check their own). */
const PAGES: readonly (readonly [string, Exclude<Scope, '*'> | null])[] = [
  ['dashboard', null],
  ['products', 'catalog'],
  ['promotions', 'catalog'],
  ['catalogImport', 'catalog'],
  ['inventory', 'inventory'],
  ['orders', 'orders'],
  ['shipping', 'orders'],
  ['customers', 'customers'],
  ['search', 'operations'],
  ['jobs', 'operations'],
  ['backups', 'operations'],
  ['webhooks', 'webhooks'],
];

export function App() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [signedIn, setSignedIn] = useState(() => auth.key() !== null);
  const [notice, setNotice] = useState<AuthEvent | null>(null);
  useEffect(
    () =>
      auth.subscribe((e) => {
        setSignedIn(e === 'signed-in');
        setNotice(e === 'signed-in' ? null : e);
        if (e !== 'signed-in') queryClient.clear();
      }),
    [queryClient],
  );
  // What the key may do; asked again every 10 s, so that a key revoked or expired ends the
  // session (401) even on a page that polls nothing it may read.
  const me = useQuery({
    queryKey: ['key-me'],
    queryFn: () => unwrap(api.GET('/admin/api-keys/me')),
    enabled: signedIn,
    refetchInterval: 10_000,
  });
  const scopes = me.data?.scopes ?? [];
  // The store's time zone, for every date on screen: read once (the dashboard polls the same query).
  const overview = useQuery({
    queryKey: ['overview'],
    queryFn: () => unwrap(api.GET('/admin/orders/overview')),
    enabled: signedIn && may(scopes, 'orders'),
    staleTime: Infinity,
  });
  if (overview.data) setStoreTimeZone(overview.data.timeZone);

  if (!signedIn) return <SignIn notice={notice} />;
  const all = scopes.includes('*');
  return (
    <AccessContext.Provider value={scopes}>
      <div className="shell">
        <a className="skip" href="#content">
          {t('app.skip')}
        </a>
        <header>
          <strong className="brand">{t('app.title')}</strong>
          <nav aria-label="main">
            {PAGES.filter(([, scope]) => scope === null || may(scopes, scope)).map(([p]) => (
              <NavLink key={p} to={p === 'dashboard' ? '/' : `/${p}`} end={p === 'dashboard'}>
                {t(`nav.${p}`)}
              </NavLink>
            ))}
          </nav>
          <div className="tools">
            <LanguagePicker />
            <button type="button" onClick={() => auth.signOut()}>
              {t('app.signOut')}
            </button>
          </div>
        </header>
        {me.data && (
          <div className="access">
            <p data-testid="key-scopes">
              {me.data.name}: {t('access.mayDo', { scopes: all ? t('access.all') : scopes.join(', ') })}
            </p>
            {all && (
              <p role="alert" className="warning">
                {t('access.allWarning')}
              </p>
            )}
          </div>
        )}
        <main id="content" tabIndex={-1}>
          <Outlet />
        </main>
      </div>
    </AccessContext.Provider>
  );
}
