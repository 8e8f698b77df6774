/**
 * The catalog as a CSV file (docs/catalog-import.md): choose a file, a dry run shows the
 * validation report (line, field, reason), then the import; and the export, saved as a file.
 */
import { useState } from 'react';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTranslation } from 'react-i18next';
import { ApiError, auth } from '../api';
import { count } from '../format';
import { ErrorBox, Table } from '../ui';

interface ImportReport {
  dryRun: boolean;
  written: boolean;
  rows: number;
  productsCreated: number;
  productsUpdated: number;
  variantsCreated: number;
  variantsUpdated: number;
  errors: { line: number; field?: string; reason: string }[];
  errorsOmitted: number;
}

/** Sends the file; a refused import (400 import_invalid) still carries its report. */
async function sendImport(file: File, dryRun: boolean, partial: boolean): Promise<ImportReport> {
  const res = await fetch(`/admin/products/import?dryRun=${dryRun}&partial=${partial}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${auth.key() ?? ''}`, 'content-type': 'text/csv' },
    body: file,
  }).catch(() => null);
  if (!res) throw new ApiError(0, 'network_error', 'ShopFlow did not answer');
  const body = (await res.json().catch(() => ({}))) as ImportReport & {
    error?: { code: string; message: string; details?: unknown };
  };
  if (res.ok) return body;
  if (body.error?.code === 'import_invalid') return body.error.details as ImportReport;
  if (res.status === 401) auth.signOut('revoked');
  throw new ApiError(
    res.status,
    body.error?.code ?? `http_${res.status}`,
    body.error?.message ?? res.statusText,
  );
}

function Report({ report }: { report: ImportReport }) {
  const { t } = useTranslation();
  return (
    <section aria-labelledby="import-report">
      <h2 id="import-report">
        {report.dryRun ? t('catalogImport.dryRunReport') : t('catalogImport.report')}
      </h2>
      <p role="status" data-testid="import-summary">
        {t('catalogImport.summary', {
          rows: count(report.rows),
          productsCreated: count(report.productsCreated),
          productsUpdated: count(report.productsUpdated),
          variantsCreated: count(report.variantsCreated),
          variantsUpdated: count(report.variantsUpdated),
          errors: count(report.errors.length + report.errorsOmitted),
        })}
      </p>
      {!report.dryRun && !report.written && (
        <p role="alert" className="error">
          {t('catalogImport.nothingWritten')}
        </p>
      )}
      {report.errors.length > 0 && (
        <Table
          label={t('catalogImport.errors')}
          head={[t('catalogImport.line'), t('catalogImport.field'), t('catalogImport.reason')]}
        >
          {report.errors.map((e, i) => (
            <tr key={i}>
              <td>{e.line}</td>
              <td>{e.field ?? ''}</td>
              <td>{e.reason}</td>
            </tr>
          ))}
        </Table>
      )}
      {report.errorsOmitted > 0 && <p>{t('catalogImport.omitted', { n: count(report.errorsOmitted) })}</p>}
    </section>
  );
}

export function CatalogImport() {
  const { t } = useTranslation();
  const queryClient = useQueryClient();
  const [file, setFile] = useState<File | null>(null);
  const [partial, setPartial] = useState(false);
  // The file whose dry run came back, and its error count: the import follows a dry run of the
  // same file that found no error (or, with partial, any dry run).
  const [checked, setChecked] = useState<{ file: File; errors: number } | null>(null);
  const run = useMutation({
    mutationFn: ({ dryRun }: { dryRun: boolean }) => sendImport(file!, dryRun, partial),
    onSuccess: (r) => {
      if (r.dryRun && file) setChecked({ file, errors: r.errors.length + r.errorsOmitted });
      else void queryClient.invalidateQueries();
    },
  });
  const [exportError, setExportError] = useState<unknown>(null);
  // The export is a file: fetched with the key in a header (never in a link), then saved.
  const download = async () => {
    setExportError(null);
    const res = await fetch('/admin/products/export', {
      headers: { authorization: `Bearer ${auth.key() ?? ''}` },
    }).catch(() => null);
    if (!res?.ok) return setExportError(new Error(String(res?.status ?? 'network')));
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement('a');
    a.href = url;
    a.download = 'catalog.csv';
    a.click();
    URL.revokeObjectURL(url);
  };
  return (
    <>
      <h1>{t('catalogImport.title')}</h1>
      <p>{t('catalogImport.help')}</p>
      <section aria-labelledby="catalog-export">
        <h2 id="catalog-export">{t('catalogImport.export')}</h2>
        <button type="button" onClick={() => void download()}>
          {t('catalogImport.download')}
        </button>
        {exportError !== null && <ErrorBox error={exportError} />}
      </section>
      <section aria-labelledby="catalog-import">
        <h2 id="catalog-import">{t('catalogImport.import')}</h2>
        <label>
          {t('catalogImport.file')}
          <input
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => {
              setFile(e.target.files?.[0] ?? null);
              setChecked(null);
              run.reset();
            }}
          />
        </label>
        <div className="inline">
          <label>
            <input type="checkbox" checked={partial} onChange={(e) => setPartial(e.target.checked)} />
            {t('catalogImport.partial')}
          </label>
        </div>
        <div className="row">
          <button
            type="button"
            disabled={!file || run.isPending}
            onClick={() => run.mutate({ dryRun: true })}
          >
            {t('catalogImport.check')}
          </button>
          <button
            type="button"
            className="primary"
            disabled={!file || checked?.file !== file || (checked.errors > 0 && !partial) || run.isPending}
            onClick={() => run.mutate({ dryRun: false })}
          >
            {t('catalogImport.run')}
          </button>
        </div>
        {run.isPending && <p role="status">{t('catalogImport.working')}</p>}
        {run.error && <ErrorBox error={run.error} />}
      </section>
      {run.data && <Report report={run.data} />}
    </>
  );
}
