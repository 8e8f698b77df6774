/** The console's small kit: loading and error states, keyset pager, tables, confirm dialogs. */
import { useRef, useState, type ReactNode } from 'react';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { flexRender, getCoreRowModel, useReactTable, type ColumnDef } from '@tanstack/react-table';
import { ApiError } from './api';

export function ErrorBox({ error, retry }: { error: unknown; retry?: () => void }) {
  const { t } = useTranslation();
  const message = error instanceof ApiError ? `${error.message} (${error.code})` : t('common.error');
  return (
    <div role="alert" className="error">
      <strong>{t('common.error')}:</strong> {message}
      {retry && (
        <button type="button" onClick={retry}>
          {t('common.retry')}
        </button>
      )}
    </div>
  );
}

/** Loading, error or the content: every query-backed block goes through it. */
export function QueryState<T>({
  query,
  children,
}: {
  query: { data: T | undefined; error: unknown; isPending: boolean; refetch: () => unknown };
  children: (data: T) => ReactNode;
}) {
  const { t } = useTranslation();
  if (query.isPending)
    return (
      <p className="loading" aria-busy="true">
        {t('common.loading')}
      </p>
    );
  if (query.error || query.data === undefined)
    return <ErrorBox error={query.error} retry={() => void query.refetch()} />;
  return <>{children(query.data)}</>;
}

/** Keyset pages: the cursors seen so far, so "previous" goes back without offsets. */
export function useKeysetPager() {
  const [stack, setStack] = useState<string[]>([]);
  return {
    cursor: stack[stack.length - 1],
    page: stack.length + 1,
    next: (c: string) => setStack((s) => [...s, c]),
    previous: () => setStack((s) => s.slice(0, -1)),
    reset: () => setStack([]),
  };
}

/** A keyset-paged query: `fetchPage` is asked for the page at the pager's cursor (the first: none). */
export function useKeysetQuery<T>(
  key: readonly unknown[],
  fetchPage: (cursor: string | undefined) => Promise<T>,
) {
  const pager = useKeysetPager();
  const query = useQuery({
    queryKey: [...key, pager.cursor],
    queryFn: () => fetchPage(pager.cursor),
    placeholderData: keepPreviousData,
  });
  return { pager, query };
}

/** The rows of a keyset-paged query as a table (or the empty message), with its pager. */
export function PagedTable<T>({
  paged,
  label,
  head,
  children,
}: {
  paged: ReturnType<typeof useKeysetQuery<{ items: T[]; nextCursor: string | null }>>;
  label: string;
  head: ReactNode[];
  children: (item: T) => ReactNode;
}) {
  const { t } = useTranslation();
  return (
    <QueryState query={paged.query}>
      {(d) => (
        <>
          {d.items.length === 0 ? (
            <p className="empty">{t('common.none')}</p>
          ) : (
            <Table label={label} head={head}>
              {d.items.map(children)}
            </Table>
          )}
          <Pager pager={paged.pager} nextCursor={d.nextCursor} />
        </>
      )}
    </QueryState>
  );
}

export function Pager({
  pager,
  nextCursor,
}: {
  pager: ReturnType<typeof useKeysetPager>;
  nextCursor: string | null | undefined;
}) {
  const { t } = useTranslation();
  return (
    <nav className="pager" aria-label="pagination">
      <button type="button" disabled={pager.page === 1} onClick={pager.previous}>
        ← {t('common.previous')}
      </button>
      <span>{pager.page}</span>
      <button type="button" disabled={!nextCursor} onClick={() => nextCursor && pager.next(nextCursor)}>
        {t('common.next')} →
      </button>
    </nav>
  );
}

/** A table of rows with TanStack Table's column model. */
export function DataTable<T>({
  data,
  columns,
  label,
}: {
  data: T[];
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  columns: ColumnDef<T, any>[];
  label: string;
}) {
  const { t } = useTranslation();
  const table = useReactTable({ data, columns, getCoreRowModel: getCoreRowModel() });
  if (data.length === 0) return <p className="empty">{t('common.none')}</p>;
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          {table.getHeaderGroups().map((g) => (
            <tr key={g.id}>
              {g.headers.map((h) => (
                <th key={h.id} scope="col">
                  {flexRender(h.column.columnDef.header, h.getContext())}
                </th>
              ))}
            </tr>
          ))}
        </thead>
        <tbody>
          {table.getRowModel().rows.map((r) => (
            <tr key={r.id}>
              {r.getVisibleCells().map((c) => (
                <td key={c.id}>{flexRender(c.column.columnDef.cell, c.getContext())}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A button that asks first, in a modal dialog (focus stays inside; Escape cancels). */
export function ConfirmButton({
  label,
  question,
  onConfirm,
  danger,
  children,
  confirmText,
}: {
  label: string;
  question: string;
  onConfirm: () => void;
  danger?: boolean;
  /** Extra content of the dialog (what will happen). */
  children?: ReactNode;
  /** The text a person must type before the action is allowed. */
  confirmText?: string;
}) {
  const { t } = useTranslation();
  const dialog = useRef<HTMLDialogElement>(null);
  const [typed, setTyped] = useState('');
  return (
    <>
      <button
        type="button"
        className={danger ? 'danger' : undefined}
        onClick={() => dialog.current?.showModal()}
      >
        {label}
      </button>
      <dialog ref={dialog} aria-label={label} onClose={() => setTyped('')}>
        <form method="dialog">
          <p>{question}</p>
          {children}
          {confirmText !== undefined && (
            <input
              aria-label={confirmText}
              value={typed}
              onChange={(e) => setTyped(e.target.value)}
              autoFocus
            />
          )}
          <div className="row">
            <button type="submit" value="cancel">
              {t('common.cancel')}
            </button>
            <button
              type="button"
              className={danger ? 'danger' : 'primary'}
              disabled={confirmText !== undefined && typed !== confirmText}
              onClick={() => {
                dialog.current?.close();
                onConfirm();
              }}
            >
              {t('common.confirm')}
            </button>
          </div>
        </form>
      </dialog>
    </>
  );
}

export function StatusBadge({ status }: { status: string }) {
  const { t } = useTranslation();
  return <span className={`badge badge-${status}`}>{t(`status.${status}`, { defaultValue: status })}</span>;
}

/** A search box that applies on submit (Enter or the button), not on every keystroke. */
export function SearchForm({ label, onSearch }: { label: string; onSearch: (q: string) => void }) {
  const { t } = useTranslation();
  const [q, setQ] = useState('');
  return (
    <form
      className="filters"
      role="search"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(q.trim());
      }}
    >
      <input
        type="search"
        aria-label={label}
        placeholder={label}
        value={q}
        maxLength={100}
        onChange={(e) => setQ(e.target.value)}
      />
      <button type="submit">{t('common.search')}</button>
    </form>
  );
}

/** A plain table: its header cells, then the rows the caller draws. */
export function Table({ label, head, children }: { label?: string; head: ReactNode[]; children: ReactNode }) {
  return (
    <div className="table-wrap">
      <table aria-label={label}>
        <thead>
          <tr>
            {head.map((h, i) => (
              <th key={i} scope="col">
                {h}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

/** A plain list of `items` (each drawn as an `<li>` with its key), or the empty message. */
export function ItemList<T>({ items, children }: { items: T[]; children: (item: T) => ReactNode }) {
  const { t } = useTranslation();
  if (items.length === 0) return <p className="empty">{t('common.none')}</p>;
  return <ul className="plain">{items.map(children)}</ul>;
}
